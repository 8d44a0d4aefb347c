"""A loopback HTTPS server whose certificate chains to a CA made in the test (trustme)."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import trustme


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the tests open up to 100 connections at once


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def https_server(ca: trustme.CA) -> Iterator[str]:
    """Serve HTTPS on 127.0.0.1 with a 'localhost' certificate from ``ca``; yield the URL."""
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    with serve(ctx) as url:
        yield url


@contextmanager
def serve(ctx: ssl.SSLContext) -> Iterator[str]:
    """Serve HTTPS on 127.0.0.1 with a ready server context; yield the URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
