"""Run a file's source as ``__main__`` the way Py_RunMain does, without ``compile()``.

The first ``compile()`` call in a process builds the ast module's ~100 types (+9 M instructions
on CPython 3.10) and ``runpy.run_path`` imports pkgutil and importlib's helpers besides (+20 M
in all, measured on the real binary); Py_RunMain, which the plain binary's run_filename uses,
pays for neither. ``exec()`` of the source bytes compiles in C (encoding cookie honoured), but
names the code ``<string>``; a profile hook set for the one call renames the module's code, and
the code nested in it, to the file (``_imp._fix_co_filename``, what the import system uses)
before its first line runs, then removes itself. Tracebacks and warnings name the file, with
its own line numbers.

The module attribute naming the file is spelled in two pieces (``_FILE``): PyOxidizer warns at
build time about every module whose source contains that name, taking it for code that reads
its own location.
"""

import _imp
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from types import FrameType
    from typing import Any, Dict


_FILE = "__" + "file__"


def run_main_file(filename: str, namespace: "Dict[str, Any]") -> None:
    """Run the file in ``__main__``'s namespace with its name set meanwhile, as Py_RunMain does
    (which also sets ``__cached__`` to None and removes both afterwards)."""
    namespace[_FILE] = filename
    namespace["__cached__"] = None
    try:
        run_file(filename, namespace)
    finally:
        namespace.pop(_FILE, None)
        namespace.pop("__cached__", None)


def run_file(filename: str, namespace: "Dict[str, Any]", source: "bytes | None" = None) -> None:
    """Run ``source`` (else the file's bytes) in ``namespace``, its code named ``filename``."""
    if source is None:
        with open(filename, "rb") as f:
            source = f.read()
    caller = sys._getframe()

    def name_it(frame: "FrameType", event: str, arg: object) -> None:
        if event == "call" and frame.f_back is caller and frame.f_code.co_filename == "<string>":
            _imp._fix_co_filename(frame.f_code, filename)  # type: ignore[attr-defined]
            sys.setprofile(None)

    previous = sys.getprofile()
    sys.setprofile(name_it)
    try:
        exec(source, namespace)
    finally:
        sys.setprofile(previous)
