"""Loopback TLS servers whose certificate chains to a CA made in the test (trustme).

HTTPS (which also serves a PyPI-style simple index holding one wheel, for pip), WebSocket over
TLS and gRPC over TLS. Each listens on 127.0.0.1 and answers as 'localhost'. ``verify`` is the
one client-side check of a handshake, in this process or (as ``VERIFY_SOURCE``) in a program run
in a distro layout.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import inspect
import io
import socket
import ssl
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import trustme

# The one project of the simple index (PEP 503): /simple/<INDEX_PROJECT>/ links to its wheel.
INDEX_PROJECT = "pyoxidizer-ssl-demo"
GRPC_METHOD = "/pyoxidizer_ssl.test.Echo/Echo"  # echoes the request bytes


def _wheel() -> tuple[str, bytes]:
    """A minimal valid pure-Python wheel of INDEX_PROJECT 1.0: (file name, bytes)."""
    name = INDEX_PROJECT.replace("-", "_")
    info = f"{name}-1.0.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {INDEX_PROJECT}\nVersion: 1.0\n"
    files = {
        f"{name}/__init__.py": b"",
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for path, data in files.items():
            zf.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), data)
    return f"{name}-1.0-py3-none-any.whl", out.getvalue()


def _index() -> dict[str, tuple[str, bytes]]:
    """{path: (content type, body)} of a one-project simple index."""
    wheel_name, wheel = _wheel()
    sha = hashlib.sha256(wheel).hexdigest()
    page = f'<a href="/files/{wheel_name}#sha256={sha}">{wheel_name}</a>\n'
    return {
        f"/simple/{INDEX_PROJECT}/": ("text/html", page.encode()),
        f"/files/{wheel_name}": ("application/octet-stream", wheel),
    }


_INDEX = _index()
_XMLRPC_OK = (
    b"<?xml version='1.0'?>\n<methodResponse><params><param><value><string>ok</string>"
    b"</value></param></params></methodResponse>\n"
)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the tests open up to 100 connections at once


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._reply(*_INDEX.get(self.path, ("text/plain", b"ok\n")))

    def do_POST(self) -> None:  # XML-RPC: every call returns "ok"
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._reply("text/xml", _XMLRPC_OK)

    def _reply(self, content_type: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # No TLS 1.3 session tickets: websockets' sync client reads the socket in a thread while it
    # sends the upgrade request from another, and a ticket arriving then races two threads on one
    # SSL object (about 1 connect in 200 timed out "waiting for handshake response", as one CI
    # run did; none in 7000 without tickets). Nothing here resumes sessions.
    ctx.num_tickets = 0
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
    return ctx


@contextmanager
def https_server(ca: trustme.CA) -> Iterator[str]:
    """Serve HTTPS on 127.0.0.1 with a 'localhost' certificate from ``ca``; yield the URL."""
    with serve(_server_context(ca)) as url:
        yield url


@contextmanager
def wss_server(ca: trustme.CA) -> Iterator[str]:
    """Serve WebSocket over TLS (echoing each message) on 127.0.0.1; yield the wss:// URL."""
    from websockets.sync.server import ServerConnection
    from websockets.sync.server import serve as ws_serve

    def echo(connection: ServerConnection) -> None:
        for message in connection:
            connection.send(message)

    with ws_serve(echo, "127.0.0.1", 0, ssl=_server_context(ca)) as server:
        port = server.socket.getsockname()[1]
        with _serving(server, f"wss://localhost:{port}/") as url:
            yield url


@contextmanager
def grpc_server(ca: trustme.CA) -> Iterator[str]:
    """Serve gRPC over TLS on 127.0.0.1 (GRPC_METHOD echoes); yield a grpcs://localhost URL."""
    from concurrent import futures

    import grpc

    cert = ca.issue_cert("localhost", "127.0.0.1")
    chain = b"".join(blob.bytes() for blob in cert.cert_chain_pems)
    service, method = GRPC_METHOD.strip("/").split("/")
    echo = grpc.unary_unary_rpc_method_handler(lambda request, context: request)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(service, {method: echo}),)
    )
    credentials = grpc.ssl_server_credentials([(cert.private_key_pem.bytes(), chain)])
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    try:
        yield f"grpcs://localhost:{port}/"
    finally:
        server.stop(None).wait(10)


@contextmanager
def serve(ctx: ssl.SSLContext) -> Iterator[str]:
    """Serve HTTPS on 127.0.0.1 with a ready server context; yield the URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    try:
        with _serving(server, f"https://localhost:{server.server_address[1]}/") as url:
            yield url
    finally:
        server.server_close()


@contextmanager
def _serving(server: Any, url: str) -> Iterator[str]:
    """Run ``server.serve_forever()`` in a thread while the caller uses ``url``."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(10)


def port_of(url: str) -> int:
    """The port of a loopback server's URL (``https://localhost:PORT/``)."""
    return int(url.rsplit(":", 1)[1].strip("/"))


def verify(ctx: ssl.SSLContext, port: int) -> str:
    """One real handshake with 127.0.0.1:``port`` as 'localhost': "ok" or OpenSSL's reason.

    Asserts first that the context still verifies: a bootstrap that weakened it fails the test.
    """
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname, "verification weakened"
    try:
        # Two statements: the source also runs on Python 3.8, without parenthesised withs.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:  # noqa: SIM117
            with ctx.wrap_socket(sock, server_hostname="localhost"):
                return "ok"
    except ssl.SSLCertVerificationError as exc:
        return str(exc.verify_message)


# verify() as source, for the programs the tests run in a fresh interpreter (which import
# socket and ssl themselves): one definition of the check, in the test process and out of it.
VERIFY_SOURCE = inspect.getsource(verify)
