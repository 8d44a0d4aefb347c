"""The rendered modules (the three templates) for a pinned input, against checked-in golden files.

Only rendered files have goldens: the static runtime modules are copied verbatim (test_render.py)
and checked by ruff and mypy (test_lint.py). ``_data.py`` is rendered from a pinned certifi
stand-in, so a certifi release does not change it. After an intended template change:

    PYOXIDIZER_SSL_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/plugin/test_golden.py

rewrites the goldens and skips (an update never counts as a pass); review the diff, run again.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyoxidizer_ssl import config, render

GOLDEN = Path(__file__).with_name("golden")
PINNED_CERTIFI = render.CertifiData(
    version="2000.01.01",
    hashes=("0d2a4c1e", "5f0b62ea", "5f0b62ea"),
    blake2b="0" * 64,
    text_digests=("1" * 32, "2" * 32, "3" * 32),
)


@pytest.mark.parametrize("module", ["__init__.py", "_data.py", "_install.py"])
def test_rendered_module_matches_golden(module):
    settings = config.validate({"trust": ["env", "system", "certifi"]}, Path.cwd())
    sources, _ = render.render_sources(settings, PINNED_CERTIFI)
    golden = GOLDEN / f"{module}.golden"
    if os.environ.get("PYOXIDIZER_SSL_UPDATE_GOLDEN") == "1":
        golden.write_text(sources[module], encoding="utf-8")
        pytest.skip(f"rewrote {golden.name}; review the diff and run again without the variable")
    assert sources[module] == golden.read_text(encoding="utf-8")
