"""The rendered runtime for the default config, compared with checked-in golden files.

_x509.py (verbatim plugin code) and _data.py (certifi's hashes change with certifi) are covered
by test_render.py instead. After an intended template change, update the goldens with:

    PYOXIDIZER_SSL_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/plugin/test_golden.py

and review the diff like any other code change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyoxidizer_ssl import config, render

GOLDEN = Path(__file__).with_name("golden")
MODULES = ["__init__.py", "_platform.py", "_report.py", "_trust.py"]


@pytest.mark.parametrize("module", MODULES)
def test_rendered_module_matches_golden(module):
    sources, _ = render.render_sources(config.validate({}, Path.cwd()))
    golden = GOLDEN / f"{module}.golden"
    if os.environ.get("PYOXIDIZER_SSL_UPDATE_GOLDEN") == "1":
        golden.write_text(sources[module], encoding="utf-8")
    assert sources[module] == golden.read_text(encoding="utf-8")
