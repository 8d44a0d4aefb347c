"""multiprocessing's helper processes, started as the binary itself, recognised by their argv.

A frozen program's multiprocessing starts each helper as ``sys.executable`` with arguments the
interpreter would parse; a PyOxidizer binary parses none, so without this every helper would run
the app again. ``main()`` (the binary's shim, its first code) asks ``helper(sys.argv)`` first:

- a ``spawn`` worker: ``<exe> --multiprocessing-fork tracker_fd=N pipe_handle=N`` (what
  ``spawn.get_command_line()`` gives when ``sys.frozen``), as ``freeze_support()`` would run it;
  pyembed 0.24's own dispatch (``multiprocessing_auto_dispatch``) passes the arguments as one
  dict and dies, so pyoxidizer_ssl_wrap_config() turns it off;
- the resource tracker: ``<exe> [flags] -c 'from multiprocessing.resource_tracker import
  main;main(N)'``;
- the forkserver: ``<exe> [flags] -c 'from multiprocessing.forkserver import main; main(N, N,
  PRELOAD, **DATA)'``.

Only these exact forms are recognised: the integers are parsed, the forkserver's two literals are
read with ``ast.literal_eval`` and type-checked, and the known function is called with them. No
string from the command line is ever executed, so a binary with a fixed run target does not
become a general ``-c`` interpreter: any other argv (``-c 'print(1)'``, an extra argument, a
flag multiprocessing never passes) runs the app as before. A setuid/setgid or file-capability
process (AT_SECURE) dispatches nothing: its caller chooses argv and the descriptors a worker
reads pickles from.
"""

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from typing import Any, Callable, Dict, List, Optional

# spawn.get_command_line()'s keys: pipe_handle, tracker_fd (POSIX) and parent_pid (Windows).
_SPAWN_KEYS = ("pipe_handle", "parent_pid", "tracker_fd")
_TRACKER = "from multiprocessing.resource_tracker import main;main("
_FORKSERVER = "from multiprocessing.forkserver import main; main("
# util._args_from_interpreter_flags(): -d -B -S -v -b -q -O (repeated), -I, -E, -s, -W<opt>,
# -X <opt>. Everything between the executable and -c must be one of these.
_FLAG_LETTERS = "dBSvbqOIEs"


def helper(argv: "List[str]") -> "Optional[Callable[[], object]]":
    """The multiprocessing helper ``argv`` starts, as a call; None for anything else."""
    if len(argv) > 1 and argv[1] == "--multiprocessing-fork":
        return _spawn(argv[2:])
    if len(argv) < 3 or argv[-2] != "-c" or not _flags(argv[1:-2]):
        return None
    code = argv[-1]
    if code.startswith(_TRACKER) and code.endswith(")"):
        fd = _integer(code[len(_TRACKER) : -1])
        if fd is None:
            return None

        def tracker() -> None:
            from multiprocessing.resource_tracker import main

            main(fd)

        return tracker
    if code.startswith(_FORKSERVER):
        return _forkserver(code)
    return None


def _integer(text: str) -> "Optional[int]":
    """A non-negative decimal integer written as %d writes it, else None."""
    if text.isascii() and text.isdigit() and (text == "0" or not text.startswith("0")):
        return int(text)
    return None


def _flags(args: "List[str]") -> bool:
    """True when ``args`` are only flags _args_from_interpreter_flags() can write."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-X" and i + 1 < len(args):
            i += 2
            continue
        if not arg.startswith("-W") and not (
            len(arg) > 1 and arg[0] == "-" and all(c in _FLAG_LETTERS for c in arg[1:])
        ):
            return False
        i += 1
    return True


def _spawn(args: "List[str]") -> "Optional[Callable[[], object]]":
    kwargs: Dict[str, Any] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or key not in _SPAWN_KEYS or key in kwargs:
            return None
        number = None if value == "None" else _integer(value)
        if number is None and value != "None":
            return None
        kwargs[key] = number
    if "pipe_handle" not in kwargs:
        return None

    def worker() -> None:
        from multiprocessing.spawn import spawn_main

        spawn_main(**kwargs)  # runs the worker, then exits with its code

    return worker


def _forkserver(code: str) -> "Optional[Callable[[], object]]":
    """``main(%d, %d, %r, **%r)`` with a list of module names and main_path/sys_path."""
    import ast

    try:
        tree = ast.parse(code, "<multiprocessing>", "exec")
    except (SyntaxError, ValueError):
        return None
    if len(tree.body) != 2 or not isinstance(tree.body[1], ast.Expr):
        return None
    call = tree.body[1].value
    if (
        not isinstance(call, ast.Call)
        or not isinstance(call.func, ast.Name)
        or call.func.id != "main"
        or len(call.args) != 3
        or len(call.keywords) != 1
        or call.keywords[0].arg is not None
    ):
        return None
    try:
        listener, alive, preload = (ast.literal_eval(arg) for arg in call.args)
        data = ast.literal_eval(call.keywords[0].value)
    except ValueError:
        return None
    if not (
        type(listener) is int
        and type(alive) is int
        and listener >= 0
        and alive >= 0
        and type(preload) is list
        and all(type(name) is str for name in preload)
        and type(data) is dict
        and set(data) <= {"main_path", "sys_path"}
        and type(data.get("main_path", "")) is str
        and type(data.get("sys_path", [])) is list
        and all(type(entry) is str for entry in data.get("sys_path", []))
    ):
        return None
    # The parse must say exactly what the command line says: its first statement too.
    first = tree.body[0]
    if not (
        isinstance(first, ast.ImportFrom)
        and first.module == "multiprocessing.forkserver"
        and first.level == 0
        and [(a.name, a.asname) for a in first.names] == [("main", None)]
    ):
        return None
    # forkserver.main() runs main_path as __main__ (spawn.import_main_path) before it reads the
    # listener: only the binary's own run_filename target may be named, else argv picks a file.
    if "main_path" in data and not _own_main(data["main_path"]):
        return None

    def forkserver() -> None:
        from multiprocessing.forkserver import main

        main(listener, alive, preload, **data)

    return forkserver


def _own_main(path: str) -> bool:
    """True when ``path`` is this binary's run_filename target (what a parent sends as main_path).

    run_module and run_command binaries have no __main__ file, so they never send one.
    """
    import os

    target = getattr(sys, "_xoptions", {}).get("pyoxidizer_ssl.run_filename")
    if not isinstance(target, str) or not os.path.isabs(path):
        return False
    mine = os.path.normpath(os.path.join(os.getcwd(), target))
    if os.path.normpath(path) == mine:
        return True
    try:
        return os.path.samefile(path, mine)
    except OSError:
        return False


def dispatch(
    argv: "List[str]", note: "Callable[[str, str], None]", start: "Callable[[], None]"
) -> None:
    """Run the helper ``argv`` asks for (with the bootstrap set up first), and exit; else return.

    Parsing never stops the app: on any error it runs as before. In a setuid/setgid or
    file-capability process nothing is dispatched (its caller chooses argv and descriptors).
    """
    try:
        run = helper(argv)
        if run is not None:
            from ._platform import env_is_trusted

            if not env_is_trusted():
                note(
                    "start.multiprocessing.privileged",
                    "a multiprocessing helper's argv in a privileged process: running the app",
                )
                run = None
    except Exception as exc:
        note(
            "start.multiprocessing.failed",
            f"reading argv as a multiprocessing helper failed ({exc!r}); running the app",
        )
        return
    if run is not None:
        start()  # workers verify TLS as the parent does
        run()  # a spawn worker exits inside; the tracker and the forkserver return when done
        sys.exit(0)
