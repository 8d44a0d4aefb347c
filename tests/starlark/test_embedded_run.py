"""The built examples, run from memory with the real oxidized_importer, as the binary runs them.

Each run happens inside a distro layout where the binary's OpenSSL defaults are missing, against
the loopback server whose CA sits only in that distro's store (or only in extra_ca).
"""

from __future__ import annotations

import pytest

from support.env import clean_env
from support.layouts import run_in_layout
from support.oxidized import embedded_command, executable_wrapper, pyoxidizer_build

pytestmark = pytest.mark.usefixtures("namespaces")


def _build(example, name, distribution, home, *extra):
    project = example(name)
    proc, built = pyoxidizer_build(project, distribution.archive, home, *extra)
    assert built is not None, proc.stderr[-4000:]
    return project, built


def _run(oxidized, built, tmp_path, layout, bundle_pem, home, *args, **env):
    python, oxidized_dir = oxidized
    argv = embedded_command(python, oxidized_dir, built, tmp_path / "run", *args)
    wrapper = executable_wrapper(python, tmp_path / "run")
    return run_in_layout(
        layout,
        argv,
        clean_env(home, EMBEDDED_RUN_EXECUTABLE=str(wrapper), **env),
        tmp_path / "ns",
        bundle_pem,
    )


@pytest.mark.parametrize(
    ("name", "layout"),
    [
        ("urllib-app", "rhel7"),
        ("urllib-app", "nixos"),
        ("requests-app", "rhel7"),
        ("requests-app", "opensuse"),
    ],
)
def test_app_verifies_against_the_distro_store(
    name,
    layout,
    example,
    tmp_path,
    distribution,
    pyoxidizer_home,
    oxidized,
    wheelhouse,
    server,
    bundle_pem,
):
    extra = ["--", "--var", "WHEELHOUSE", str(wheelhouse)] if name == "requests-app" else []
    _, built = _build(example, name, distribution, pyoxidizer_home, *extra)
    ok = _run(
        oxidized,
        built,
        tmp_path / "a",
        layout,
        bundle_pem,
        pyoxidizer_home,
        server,
        PYOXIDIZER_SSL_DEBUG="1",
    )
    assert (ok.returncode, ok.stdout) == (0, "200\n"), ok.stderr[-3000:]
    assert "pyoxidizer-ssl: decision: system" in ok.stderr
    stock = _run(
        oxidized,
        built,
        tmp_path / "b",
        layout,
        bundle_pem,
        pyoxidizer_home,
        server,
        PYOXIDIZER_SSL_DISABLE="1",
    )
    assert stock.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in stock.stderr, stock.stderr


def test_corporate_ca_with_no_store_at_all(
    example, tmp_path, distribution, pyoxidizer_home, oxidized, corp_server, corp_ca, bundle_pem
):
    corp = tmp_path / "corp.pem"
    corp_ca.cert_pem.write_to_path(str(corp))
    _, built = _build(
        example, "corporate-ca", distribution, pyoxidizer_home, "--extra-ca", str(corp)
    )
    ok = _run(
        oxidized,
        built,
        tmp_path,
        "no-store",
        bundle_pem,
        pyoxidizer_home,
        corp_server,
        PYOXIDIZER_SSL_DEBUG="1",
    )
    assert (ok.returncode, ok.stdout) == (0, "200\n"), ok.stderr[-3000:]
    assert "decision: certifi (certifi (embedded))" in ok.stderr
    assert "extra CAs: 1 added to every context" in ok.stderr


def test_two_targets_only_one_opts_in(
    example, tmp_path, distribution, pyoxidizer_home, oxidized, bundle_pem
):
    project = example("two-targets")
    outputs = {}
    for target in ("resources", "plain_resources"):
        proc, built = pyoxidizer_build(
            project, distribution.archive, pyoxidizer_home, target=target
        )
        assert built is not None, proc.stderr[-3000:]
        result = _run(oxidized, built, tmp_path / target, "debian", bundle_pem, pyoxidizer_home)
        assert result.returncode == 0, result.stderr
        outputs[target] = result.stdout.strip()
    assert outputs == {"resources": "bootstrap embedded", "plain_resources": "plain"}
