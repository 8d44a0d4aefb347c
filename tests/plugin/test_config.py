"""[tool.pyoxidizer-ssl] and its CLI overrides: every bad value gets an exact, fixable message."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyoxidizer_ssl import config
from pyoxidizer_ssl.errors import UsageError, exit_code

T = "tool.pyoxidizer-ssl"
SOURCES = "'env', 'system', 'certifi', 'truststore'"

BAD = [
    ({"trust": "env"}, f"{T}: invalid trust 'env'; must be a list of sources from {SOURCES}"),
    ({"trust": []}, f"{T}: invalid trust []; must be a non-empty list of sources from {SOURCES}"),
    ({"trust": ["sytem"]}, f"{T}: invalid trust entry 'sytem'; must be one of {SOURCES}"),
    (
        {"trust": ["env", "env"]},
        f"{T}: invalid trust entry 'env'; must be listed once; remove the duplicate",
    ),
    ({"trust": [1]}, f"{T}: invalid trust entry 1; must be one of {SOURCES}"),
    ({"extra_ca": "ca.pem"}, f"{T}: invalid extra_ca 'ca.pem'; must be a list of PEM file paths"),
    ({"extra_ca": [""]}, f"{T}: invalid extra_ca ['']; must be a list of PEM file paths"),
    ({"export_env": "yes"}, f"{T}: invalid export_env 'yes'; must be true or false"),
    ({"grpc": "off"}, f"{T}: invalid grpc 'off'; must be true or false"),
    (
        {"python_version": "3.7"},
        f"{T}: invalid python_version '3.7'; must be a CPython version like '3.10' (3.8 to 3.13)",
    ),
    (
        {"python_version": 3.1},
        f"{T}: invalid python_version 3.1; must be a CPython version like '3.10' (3.8 to 3.13)",
    ),
    (
        {"trust": ["truststore"], "python_version": "3.9"},
        f"{T}: invalid trust entry 'truststore'; must be used with Python >= 3.10 only, and the "
        "binary's Python is 3.9; remove 'truststore' or build with a newer distribution",
    ),
    (
        {"trusts": ["env"]},
        f"{T}: invalid key 'trusts'; must be one of 'trust', 'extra_ca', 'export_env', "
        "'python_version', 'grpc'; remove or rename it",
    ),
]


@pytest.mark.parametrize(("raw", "message"), BAD, ids=[m.split(";")[0] for _, m in BAD])
def test_bad_values_have_exact_messages(raw, message):
    with pytest.raises(UsageError) as err:
        config.validate(raw, Path("/base"))
    assert str(err.value) == message
    assert exit_code(err.value) == 2


def test_defaults():
    cfg = config.validate({}, Path("/base"))
    assert cfg.trust == ("env", "system", "certifi")
    assert cfg.extra_ca == () and cfg.export_env is False and cfg.python_version == "3.10"
    assert cfg.grpc is True


def test_file_paths_resolve_against_pyproject_and_flags_against_cwd(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.pyoxidizer-ssl]\ntrust = ["system", "certifi"]\nextra_ca = ["certs/corp.pem"]\n'
    )
    cfg = config.load(project / "pyproject.toml", cwd=tmp_path)
    assert cfg.trust == ("system", "certifi")
    assert cfg.extra_ca == ((project / "certs" / "corp.pem").resolve(),)
    cfg = config.load(
        project / "pyproject.toml", {"extra_ca": ["mine.pem"], "trust": ["certifi"]}, cwd=tmp_path
    )
    assert cfg.extra_ca == ((tmp_path / "mine.pem").resolve(),)
    assert cfg.trust == ("certifi",)


def test_flag_errors_name_the_flag(tmp_path):
    with pytest.raises(config.ConfigError) as err:
        config.load(None, {"trust": ["nope"]}, cwd=tmp_path)
    assert str(err.value) == f"--trust: invalid trust entry 'nope'; must be one of {SOURCES}"


def test_broken_toml_names_the_file(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.pyoxidizer-ssl\n")
    with pytest.raises(config.ConfigError, match=r"pyproject.toml: invalid TOML .*fix the file"):
        config.load(path)
