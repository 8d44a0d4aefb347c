"""Real TLS clients, each making one verified request from a fresh interpreter.

``client_script`` returns a Python program that (optionally) runs ``install()`` first, makes the
request with one client, and prints a JSON line: the status or the error, and the report.
``SERVER`` says which loopback server (support.tls) a client talks to: HTTPS unless named;
pip downloads a wheel from the HTTPS server's simple index.
"""

from __future__ import annotations

import json
import textwrap

from .tls import GRPC_METHOD, INDEX_PROJECT

CLIENTS = {
    "ssl": """
        import socket, ssl
        ctx = ssl.create_default_context()
        with socket.create_connection((HOST, PORT), timeout=10) as sock:
            with ctx.wrap_socket(sock, server_hostname=HOST) as tls:
                tls.sendall(b"GET / HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n")
                status = int(tls.recv(64).split()[1])
    """,
    "urllib": """
        import urllib.request
        status = urllib.request.urlopen(URL, timeout=10).status
    """,
    "http.client": """
        import http.client
        conn = http.client.HTTPSConnection(HOST, PORT, timeout=10)
        conn.request("GET", "/")
        status = conn.getresponse().status
    """,
    "asyncio": """
        import asyncio
        async def fetch():
            reader, writer = await asyncio.open_connection(HOST, PORT, ssl=True)
            writer.write(b"GET / HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n")
            line = await reader.readline()
            writer.close()
            return int(line.split()[1])
        status = asyncio.run(fetch())
    """,
    "urllib3": """
        import urllib3
        status = urllib3.PoolManager(retries=False).request("GET", URL).status
    """,
    "requests": """
        import requests
        status = requests.get(URL, timeout=10).status_code
    """,
    "httpx": """
        import httpx
        status = httpx.get(URL, timeout=10).status_code
    """,
    "aiohttp": """
        import asyncio, aiohttp
        async def fetch():
            async with aiohttp.ClientSession() as session:
                async with session.get(URL) as response:
                    return response.status
        status = asyncio.run(fetch())
    """,
    "tornado": """
        from tornado.httpclient import HTTPClient
        client = HTTPClient()
        status = client.fetch(URL, request_timeout=10).code
        client.close()
    """,
    "httplib2": """
        import httplib2
        response, _ = httplib2.Http(timeout=10).request(URL)
        status = response.status
    """,
    "botocore": """
        from botocore.awsrequest import AWSRequest
        from botocore.httpsession import URLLib3Session
        status = URLLib3Session(timeout=10).send(AWSRequest("GET", URL).prepare()).status_code
    """,
    "xmlrpc": """
        import xmlrpc.client
        status = 200 if xmlrpc.client.ServerProxy(URL).ping() == "ok" else 500
    """,
    "websockets": """
        from websockets.sync.client import connect
        with connect(URL, open_timeout=10) as ws:
            ws.send("hi")
            status = 200 if ws.recv(timeout=10) == "hi" else 500
    """,
    "websocket-client": """
        import websocket
        ws = websocket.create_connection(URL, timeout=10)
        ws.send("hi")
        status = 200 if ws.recv() == "hi" else 500
        ws.close()
    """,
    "grpc": """
        import grpc
        options = (("grpc.ssl_target_name_override", HOST),)
        target = "ipv4:127.0.0.1:%d" % PORT
        with grpc.secure_channel(target, grpc.ssl_channel_credentials(), options) as channel:
            reply = channel.unary_unary(GRPC_METHOD)(b"hi", timeout=10)
        status = 200 if reply == b"hi" else 500
    """,
    "pip": """
        import contextlib, io, tempfile
        from pip._internal.cli.main import main as pip_main
        log = io.StringIO()
        os.environ["PIP_CONFIG_FILE"] = os.devnull  # not this host's /etc/pip.conf (cert = ...)
        with tempfile.TemporaryDirectory() as dest:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                code = pip_main(["download", "--no-cache-dir", "--no-deps",
                                 "--disable-pip-version-check", "--retries", "0",
                                 "--timeout", "10", "--only-binary", ":all:", "-d", dest,
                                 "--index-url", URL + "simple/", INDEX_PROJECT])
            status = 200 if code == 0 and os.listdir(dest) else 500
        if status != 200:
            raise RuntimeError("pip %s: %s" % (pip_main.__module__, log.getvalue()[-3000:]))
    """,
}

# The server each client talks to (support.tls); every other client GETs from the HTTPS server.
SERVER = {"websockets": "wss", "websocket-client": "wss", "grpc": "grpc"}

_PROGRAM = """\
import json, os, sys
sys.path[:0] = {paths!r}
URL = {url!r}
HOST, PORT = "localhost", int(URL.rsplit(":", 1)[1].strip("/"))
INDEX_PROJECT, GRPC_METHOD = {index_project!r}, {grpc_method!r}
report = None
if {install!r}:
    import pyoxidizer_ssl_bootstrap
    report = pyoxidizer_ssl_bootstrap.install()
out = {{}}
try:
{body}
    out["status"] = status
except Exception as exc:
    out["error"] = "%s: %s" % (type(exc).__name__, exc)
if report is not None:
    out.update(source=report.source, origin=report.origin, usable=report.usable,
               cafile=report.cafile, capath=report.capath, trace=report.trace,
               steps=report.steps)
print("RESULT " + json.dumps(out))
"""


def client_script(client: str, url: str, paths: list[str], install: bool = True) -> str:
    """A program that GETs ``url`` with ``client``; ``paths`` go first on sys.path."""
    body = textwrap.indent(textwrap.dedent(CLIENTS[client]).strip(), "    ")
    return _PROGRAM.format(
        paths=paths,
        url=url,
        install=install,
        body=body,
        index_project=INDEX_PROJECT,
        grpc_method=GRPC_METHOD,
    )


def parse_result(stdout: str) -> dict[str, object]:
    """The JSON the program printed (raises with the whole output if it printed none)."""
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, object] = json.loads(line[len("RESULT ") :])
            return result
    raise AssertionError(f"no RESULT line in output:\n{stdout}")
