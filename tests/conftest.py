"""Fixtures shared by every layer: CAs, loopback servers, rendered bootstraps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import certifi
import pytest
import trustme

from pyoxidizer_ssl import config as config_mod
from pyoxidizer_ssl.render import render
from support.layouts import require_namespaces
from support.tls import https_server


def _test_ca(role: str) -> trustme.CA:
    return trustme.CA(organization_name=f"pyoxidizer-ssl test {role} CA")


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """The CA a distro layout's system store holds."""
    return _test_ca("system")


@pytest.fixture(scope="session")
def corp_ca() -> trustme.CA:
    """A corporate CA known only through extra_ca."""
    return _test_ca("corporate")


@pytest.fixture(scope="session")
def evil_ca() -> trustme.CA:
    """Another local user's CA: what the attacks try to make the binary trust."""
    return _test_ca("attacker")


@pytest.fixture(scope="session")
def serve() -> Iterator[Callable[[trustme.CA], str]]:
    """``serve(ca)``: the URL of a loopback HTTPS server whose certificate ``ca`` issued.

    One server per CA a session, stopped when the session ends.
    """
    urls: dict[int, str] = {}
    with ExitStack() as stack:

        def _serve(ca: trustme.CA) -> str:
            if id(ca) not in urls:
                urls[id(ca)] = stack.enter_context(https_server(ca))
            return urls[id(ca)]

        yield _serve


@pytest.fixture(scope="session")
def server(serve: Callable[[trustme.CA], str], ca: trustme.CA) -> str:
    return serve(ca)


@pytest.fixture(scope="session")
def corp_server(serve: Callable[[trustme.CA], str], corp_ca: trustme.CA) -> str:
    return serve(corp_ca)


@pytest.fixture(scope="session")
def evil_server(serve: Callable[[trustme.CA], str], evil_ca: trustme.CA) -> str:
    return serve(evil_ca)


@pytest.fixture
def namespaces() -> None:
    """Use it (``pytestmark = pytest.mark.usefixtures("namespaces")``) in a test that runs in a
    distro layout: it skips without private mount namespaces (fails under
    PYOXIDIZER_SSL_TEST_REQUIRE_ALL=1)."""
    require_namespaces()


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


@pytest.fixture(scope="session")
def pyoxidizer_home(tmp_path_factory: pytest.TempPathFactory) -> str:
    """HOME for pyoxidizer: its distribution cache is shared by every build in the session."""
    return str(tmp_path_factory.mktemp("pyoxidizer-home"))


@pytest.fixture
def home(tmp_path: Path) -> str:
    path = tmp_path / "home"
    path.mkdir()
    return str(path)


@pytest.fixture(scope="session")
def ca_pem_bytes(ca: trustme.CA) -> bytes:
    return ca.cert_pem.bytes()
