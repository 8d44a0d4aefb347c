"""Fixtures shared by every layer: CAs, loopback servers, rendered bootstraps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import certifi
import pytest
import trustme

from pyoxidizer_ssl import config as config_mod
from pyoxidizer_ssl.render import render
from support.tls import https_server


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """The CA a distro layout's system store holds."""
    return trustme.CA(organization_name="pyoxidizer-ssl test system CA")


@pytest.fixture(scope="session")
def corp_ca() -> trustme.CA:
    """A corporate CA known only through extra_ca."""
    return trustme.CA(organization_name="pyoxidizer-ssl test corporate CA")


@pytest.fixture(scope="session")
def server(ca: trustme.CA) -> Iterator[str]:
    with https_server(ca) as url:
        yield url


@pytest.fixture(scope="session")
def corp_server(corp_ca: trustme.CA) -> Iterator[str]:
    with https_server(corp_ca) as url:
        yield url


@pytest.fixture(scope="session")
def bundle_pem(ca: trustme.CA) -> bytes:
    """A realistic system bundle: twenty real roots, then the test CA."""
    roots = Path(certifi.where()).read_bytes().split(b"-----END CERTIFICATE-----")[:20]
    text = b"".join(r + b"-----END CERTIFICATE-----" for r in roots) + b"\n"
    return text + ca.cert_pem.bytes()


RenderFn = Callable[..., Path]


@pytest.fixture(scope="session")
def render_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> RenderFn:
    """Render the bootstrap with config keys as keyword arguments; return the sys.path dir."""
    cache: dict[str, Path] = {}

    def _render(**keys: object) -> Path:
        key = repr(sorted(keys.items()))
        if key not in cache:
            out = tmp_path_factory.mktemp("bootstrap")
            render(config_mod.validate(dict(keys), out), out)
            cache[key] = out
        return cache[key]

    return _render


@pytest.fixture
def home(tmp_path: Path) -> str:
    path = tmp_path / "home"
    path.mkdir()
    return str(path)


@pytest.fixture(scope="session")
def ca_pem_bytes(ca: trustme.CA) -> bytes:
    return ca.cert_pem.bytes()
