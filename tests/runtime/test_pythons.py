"""The rendered bootstrap is stdlib-only and works on CPython 3.8 to 3.13."""

from __future__ import annotations

import pytest

from support.env import need, python_for
from support.layouts import request_in_layout, require_namespaces

VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]


@pytest.mark.parametrize("version", VERSIONS)
def test_bootstrap_on_python(version, tmp_path, home, server, bundle_pem, render_bootstrap):
    require_namespaces()
    python = python_for(version)
    need(python is not None, f"needs a local CPython {version} (pyenv install {version})")
    boot = render_bootstrap()
    result = request_in_layout(
        "fedora43",
        tmp_path,
        home,
        server,
        bundle_pem,
        boot,
        python=python,
        PYOXIDIZER_SSL_DEBUG="1",
    )
    assert result.get("status") == 200, result
    assert result["source"] == "system"
