"""Every example, built by the real pyoxidizer 0.24.0 through `pyoxidizer-ssl build`.

The packed resources must hold the bootstrap, certifi and cacert.pem, and the generated
interpreter config the shim; a target that does not opt in holds none of it.
"""

from __future__ import annotations

import pytest

from support.oxidized import pyoxidizer_build, shim_run_command, without_fallback
from support.resources import list_resources

SHIM = shim_run_command()
BOOTSTRAP_MODULES = [
    "",
    "._cache",
    "._cleanup",
    "._data",
    "._export",
    "._grpc",
    "._hashed_copy",
    "._install",
    "._patches",
    "._plan",
    "._platform",
    "._private_dir",
    "._report",
    "._sources",
    "._state",
    "._x509",
]
EXAMPLE_MODULES = {
    "urllib-app": "urllib_app",
    "requests-app": "requests_app",
    "corporate-ca": "corporate_ca",
    "two-targets": "two_targets",
}


def _extra(name, wheelhouse):
    return ["--", "--var", "WHEELHOUSE", str(wheelhouse)] if name == "requests-app" else []


@pytest.mark.parametrize("name", sorted(EXAMPLE_MODULES))
def test_example_embeds_bootstrap_and_shim(
    name, example, distribution, pyoxidizer_home, oxidized, wheelhouse
):
    project = example(name)
    proc, built = pyoxidizer_build(
        project, distribution.archive, pyoxidizer_home, *_extra(name, wheelhouse)
    )
    assert built is not None, proc.stderr[-4000:]
    python, oxidized_dir = oxidized
    resources = list_resources(python, oxidized_dir, built.resources, pyoxidizer_home)
    for suffix in BOOTSTRAP_MODULES:
        entry = resources["pyoxidizer_ssl_bootstrap" + suffix]
        assert entry["bytecode"] and not entry["source"], suffix  # bytecode only (size)
    assert "cacert.pem" in resources["certifi"]["package_resources"]
    if name != "requests-app":  # there the app's own pip_install adds certifi as it comes
        certifi = [k for k in resources if k == "certifi" or k.startswith("certifi.")]
        assert sorted(certifi) == ["certifi", "certifi.core"]  # not __main__ (never imported)
        assert all(resources[k]["bytecode"] and not resources[k]["source"] for k in certifi)
    # PyOxidizer warns about modules it thinks will break in memory (e.g. "contains __file__").
    ours = [line for line in proc.stderr.splitlines() if "pyoxidizer_ssl_bootstrap" in line]
    assert not [line for line in ours if line.startswith("warning")], ours
    assert EXAMPLE_MODULES[name] in resources
    interpreter = built.interpreter()
    assert interpreter["run_command"] == SHIM
    assert interpreter["run_module"] is None
    assert without_fallback(interpreter["x_options"]) == [
        f"pyoxidizer_ssl.run_module={EXAMPLE_MODULES[name]}"
    ]
    if name == "requests-app":
        assert {"requests", "urllib3", "idna"} <= set(resources)


def test_target_that_does_not_opt_in_is_unchanged(example, distribution, pyoxidizer_home, oxidized):
    project = example("two-targets")
    proc, built = pyoxidizer_build(
        project, distribution.archive, pyoxidizer_home, target="plain_resources"
    )
    assert built is not None, proc.stderr[-4000:]
    python, oxidized_dir = oxidized
    resources = list_resources(python, oxidized_dir, built.resources, pyoxidizer_home)
    assert "two_targets" in resources
    assert not [r for r in resources if r.startswith(("pyoxidizer_ssl_bootstrap", "certifi"))]
    interpreter = built.interpreter()
    assert interpreter["run_command"] is None and interpreter["x_options"] == []
    assert interpreter["run_module"] == "two_targets" and interpreter["inspect"] == "None"


def test_corporate_ca_root_is_rendered_into_the_bootstrap(example, distribution, pyoxidizer_home):
    project = example("corporate-ca")
    proc, built = pyoxidizer_build(project, distribution.archive, pyoxidizer_home)
    assert built is not None, proc.stderr[-4000:]
    pem = (project / "certs" / "corp-root.pem").read_text()
    body = pem.splitlines()[1]
    data = (project / "build/pyoxidizer-ssl/pyoxidizer_ssl_bootstrap/_data.py").read_text()
    assert body in data
