"""Real HTTP clients, each making one verified GET from a fresh interpreter.

``client_script`` returns a Python program that (optionally) runs ``install()`` first, makes the
request with one client, and prints a JSON line: the status or the error, and the report.
"""

from __future__ import annotations

import json
import textwrap

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
}

_PROGRAM = """\
import json, sys
sys.path[:0] = {paths!r}
URL = {url!r}
HOST, PORT = "localhost", int(URL.rsplit(":", 1)[1].strip("/"))
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
               cafile=report.cafile, capath=report.capath, trace=report.trace)
print("RESULT " + json.dumps(out))
"""


def client_script(client: str, url: str, paths: list[str], install: bool = True) -> str:
    """A program that GETs ``url`` with ``client``; ``paths`` go first on sys.path."""
    body = textwrap.indent(textwrap.dedent(CLIENTS[client]).strip(), "    ")
    return _PROGRAM.format(paths=paths, url=url, install=install, body=body)


def parse_result(stdout: str) -> dict[str, object]:
    """The JSON the program printed (raises with the whole output if it printed none)."""
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, object] = json.loads(line[len("RESULT ") :])
            return result
    raise AssertionError(f"no RESULT line in output:\n{stdout}")
