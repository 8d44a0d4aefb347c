"""The probe's commands. Usage: probe-<kind> COMMAND [ARGS...]

fetch URL   GET URL with urllib; print the body, or `error: <reason>` and exit 1
info        print sys.argv, __main__, sys.frozen, where the bootstrap and _ssl came from (JSON)
exit N      raise SystemExit(N)
raise       raise an uncaught ValueError
pool URL [METHOD [pool|process]]
            GET URL in a multiprocessing worker (a Pool's, default, or a Process) started
            with METHOD (spawn, default; forkserver; fork); print its result (JSON). The app
            calls freeze_support() first, as frozen apps do
imports N   import probe.many.m0 ... m<N-1> (bench_exe.py --callgrind writes them: the import tax)
shm         make a shared-memory block and leave it for multiprocessing's resource tracker
            to clean up at exit (it says so on stderr); print {"tracker": pid}
time WHAT N [URL]
            time N of WHAT: context (ssl.create_default_context()), bare (an SSLContext,
            the floor) or urlopen (a GET of URL on a new connection); print
            {"first": ms, "median": ms} of them (benchmarks/bench_exe.py)

Nothing is imported at start that the command does not need: `exit 0` is the start-up probe.
"""

from __future__ import annotations

import sys


def _fetch(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            print(response.read().decode(), end="")
    except urllib.error.URLError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1
    return 0


def _info() -> int:
    import _ssl
    import json

    main = sys.modules["__main__"]
    bootstrap = sys.modules.get("pyoxidizer_ssl_bootstrap")
    print(
        json.dumps(
            {
                "argv": sys.argv,
                "main": main.__name__,
                "main_file": getattr(main, "__file__", None),
                "frozen": getattr(sys, "frozen", None),
                "bootstrap": bootstrap is not None,
                "bootstrap_file": getattr(bootstrap, "__file__", None),
                "ssl_file": getattr(_ssl, "__file__", None),
                "executable": sys.executable,
            }
        )
    )
    return 0


def _pool(url: str, method: str, how: str) -> int:
    import json
    import multiprocessing

    from probe import work

    multiprocessing.freeze_support()
    ctx = multiprocessing.get_context(method)
    if how == "process":
        queue = ctx.Queue()
        process = ctx.Process(target=work.fetch_into, args=(url, queue))
        process.start()
        body, source, frozen = queue.get(timeout=120)
        process.join(timeout=120)
    else:
        with ctx.Pool(1) as pool:
            body, source, frozen = pool.apply(work.fetch, (url,))
    print(json.dumps({"body": body, "source": source, "frozen": frozen}))
    return 0


def _shm() -> int:
    import json
    from multiprocessing import resource_tracker, shared_memory

    block = shared_memory.SharedMemory(create=True, size=16)  # registered with the tracker
    block.close()  # not unlinked: the tracker must do it at exit
    print(json.dumps({"tracker": resource_tracker._resource_tracker._pid}))
    return 0


def _time(what: str, runs: int, url: str) -> int:
    import json
    import ssl
    import statistics
    import time
    import urllib.request

    def once() -> None:
        if what == "context":
            ssl.create_default_context()
        elif what == "bare":
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        else:
            with urllib.request.urlopen(url, timeout=30) as response:
                response.read()

    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        once()
        times.append((time.perf_counter_ns() - start) / 1e6)
    print(json.dumps({"first": times[0], "median": statistics.median(times[1:] or times)}))
    return 0


def dispatch_multiprocessing() -> None:
    """Be a multiprocessing helper process when started as one; else return.

    The README's workaround for a binary without pyoxidizer-ssl's shim (the plain probe, built
    with multiprocessing_auto_dispatch off): run a spawn worker (`--multiprocessing-fork k=v...`,
    multiprocessing's own freeze_support) and the resource tracker, which multiprocessing starts
    as `<exe> -I -c <code>`. With the shim this never runs: the shim dispatches them itself,
    before the app, which is what the tests check.
    """
    if "pyoxidizer_ssl_bootstrap" in sys.modules:
        return
    argv = sys.argv
    if len(argv) >= 2 and argv[1] == "--multiprocessing-fork":
        from multiprocessing.spawn import freeze_support

        freeze_support()  # runs the worker, then exits
    if len(argv) >= 3 and argv[-2] == "-c" and argv[-1].startswith(_HELPERS):
        exec(argv[-1])
        sys.exit(0)


_HELPERS = (
    "from multiprocessing.resource_tracker import main",
    "from multiprocessing.forkserver import main",
)


def main() -> None:
    """Run the command in sys.argv[1:]; exit with its code."""
    dispatch_multiprocessing()
    args = sys.argv[1:]
    command = args[0] if args else "info"
    if command == "fetch":
        sys.exit(_fetch(args[1]))
    if command == "exit":
        sys.exit(int(args[1]))
    if command == "raise":
        raise ValueError("boom")
    if command == "pool":
        method = args[2] if len(args) > 2 else "spawn"
        sys.exit(_pool(args[1], method, args[3] if len(args) > 3 else "pool"))
    if command == "shm":
        sys.exit(_shm())
    if command == "imports":
        for i in range(int(args[1])):
            __import__(f"probe.many.m{i}")
        sys.exit(0)
    if command == "time":
        sys.exit(_time(args[1], int(args[2]), args[3] if len(args) > 3 else ""))
    sys.exit(_info())
