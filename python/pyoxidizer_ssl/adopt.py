"""``pyoxidizer-ssl init``: the exact edit that adopts pyoxidizer-ssl in a project's pyoxidizer.bzl.

The edit is small and keeps everything of the user's own: a ``load()`` line; each
``default_python_distribution(ARGS)`` becomes ``pyoxidizer_ssl_distribution(vars = VARS, ARGS)``
(the same arguments, plus the offline archive when ``pyoxidizer-ssl build --distribution`` passes
one); each ``DIST.to_python_executable(ARGS)`` becomes ``pyoxidizer_ssl_executable(dist = DIST,
ARGS, vars = VARS)`` with the arguments named. A config that names certifi in a string (a
``pip_install(["certifi==..."])`` or ``packages = ["certifi"]``: the app ships its own) gets
``certifi = "app"``. Nothing else changes, so ``init`` prints it as a unified diff.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .config import ConfigError

LOAD_PATH = "build/pyoxidizer-ssl/pyoxidizer.bzl"
DISTRIBUTION = "pyoxidizer_ssl_distribution"
EXECUTABLE = "pyoxidizer_ssl_executable"
# to_python_executable(name, packaging_policy = None, config = None): positional order.
_TO_EXE_PARAMS = ("name", "packaging_policy", "config")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORD_ARG = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")
_CLOSING = {"(": ")", "[": "]", "{": "}"}
# A string literal naming certifi as a requirement or package ("certifi", "certifi==2024.2.2"):
# the config adds its own certifi.
_APP_CERTIFI = re.compile(r"""(["'])certifi(\s*[<>=!~;\[][^"'\n]*)?\1""")

STARTER = """\
# A PyOxidizer config written by `pyoxidizer-ssl init`: the executable runs the package {app}
# and verifies TLS on every host. Build from this directory with
# `pyoxidizer-ssl build --system-rust` (offline: add `--distribution ARCHIVE.tar.zst`).
load("{load_path}", "{distribution}", "{executable}")

def make_exe():
    dist = {distribution}(vars = VARS)
    policy = dist.make_python_packaging_policy()
    # What cannot load from memory (extension modules that are shared libraries, in some
    # distributions and wheels) goes to lib/ beside the binary; python-build-standalone's own
    # are built into the binary and stay there.
    policy.resources_location_fallback = "filesystem-relative:lib"
    config = dist.make_python_interpreter_config()
    config.run_module = "{app}"
    exe = {executable}(
        dist = dist, name = "{app}", packaging_policy = policy, config = config, vars = VARS)
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["{app}"]))
    return exe

def make_embedded_resources(exe):
    return exe.to_embedded_resources()

def make_install(exe):
    return exe.to_file_manifest(".")  # the binary, and its lib/ when the policy put files there

register_target("exe", make_exe)
register_target("resources", make_embedded_resources, depends = ["exe"])
register_target("install", make_install, depends = ["exe"], default = True)
resolve_targets()
"""


@dataclass(frozen=True)
class Adoption:
    """The adopted config text and what the edit did, one line each."""

    text: str
    changes: tuple[str, ...]


def starter(app: str) -> str:
    """A complete pyoxidizer.bzl for a project whose code is the package ``app``."""
    if not _IDENT.fullmatch(app):
        raise ConfigError(
            f"--app: invalid package {app!r}; must be a Python package name like 'myapp'; "
            "pass the package of the project that the executable runs"
        )
    return STARTER.format(
        app=app, load_path=LOAD_PATH, distribution=DISTRIBUTION, executable=EXECUTABLE
    )


def diff(before: str, after: str, path: str) -> str:
    """The unified diff of ``path`` from ``before`` to ``after`` (empty when they are equal)."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def adopt(text: str, path: str = "pyoxidizer.bzl") -> Adoption:
    """Return ``text`` (the pyoxidizer.bzl at ``path``) edited to use pyoxidizer-ssl's macros.

    ConfigError when it creates no executable with ``to_python_executable()``; an already
    adopted config comes back unchanged.
    """
    code = _code_mask(text)
    if re.search(rf"\b{EXECUTABLE}\s*\(", code):
        return Adoption(text, ())
    if not _calls(code, ".to_python_executable"):
        raise ConfigError(
            f"init: invalid pyoxidizer.bzl {path!r}; it calls no DIST.to_python_executable(); "
            "must create its executable with one to be edited; call "
            f"{EXECUTABLE}(dist = DIST, name = ..., vars = VARS) where it makes the executable"
        )
    app_certifi = _APP_CERTIFI.search(_code_mask(text, strings=False)) is not None
    names = [EXECUTABLE]
    changes = []
    text, count = _edit_distributions(text)
    if count:
        names.insert(0, DISTRIBUTION)
        changes.append(f"default_python_distribution(...) -> {DISTRIBUTION}(vars = VARS, ...)")
    text, receivers = _edit_executables(text, ['certifi = "app"'] if app_certifi else [])
    changes += [
        f"{r}.to_python_executable(...) -> {EXECUTABLE}(dist = {r}, ...)" for r in receivers
    ]
    load = "load(" + ", ".join(f'"{n}"' for n in [LOAD_PATH, *names]) + ")\n"
    at = _load_position(text)
    if text[at:].split("\n", 1)[0].strip():  # code right below: keep a blank line between
        load += "\n"
    text = text[:at] + load + text[at:]
    changes.insert(0, f"load {', '.join(names)} from {LOAD_PATH}")
    if app_certifi:
        changes.append(
            'certifi = "app": the config adds its own certifi, which stays the only copy'
        )
    return Adoption(text, tuple(changes))


def _edit_distributions(text: str) -> tuple[str, int]:
    """Rename each default_python_distribution(ARGS) call, keeping ARGS; the count."""
    code = _code_mask(text)
    edits = []
    for start, open_paren, end in _calls(code, "default_python_distribution"):
        if start > 0 and (code[start - 1] == "." or _IDENT.match(code[start - 1])):
            continue
        args = _arguments(text, code, open_paren + 1, end - 1)
        inner = text[open_paren + 1 : end - 1].strip()
        if not args:
            new = f"{DISTRIBUTION}(vars = VARS)"
        elif _KEYWORD_ARG.match(args[0]):
            new = f"{DISTRIBUTION}(vars = VARS, {inner})"
        else:  # a positional flavor first: vars goes first positionally too (same order)
            new = f"{DISTRIBUTION}(VARS, {inner})"
        edits.append((start, end, new))
    return _apply(text, edits), len(edits)


def _edit_executables(text: str, extra: list[str]) -> tuple[str, list[str]]:
    """Turn each DIST.to_python_executable(ARGS) into the macro call; the DIST expressions."""
    code = _code_mask(text)
    edits = []
    receivers = []
    for start, open_paren, end in _calls(code, ".to_python_executable"):
        receiver_start = _receiver_start(code, start)
        receiver = text[receiver_start:start]
        named = []
        for index, arg in enumerate(_arguments(text, code, open_paren + 1, end - 1)):
            if _KEYWORD_ARG.match(arg) is None:
                if index >= len(_TO_EXE_PARAMS):
                    raise ConfigError(
                        f"init: invalid to_python_executable() call {text[start:end]!r} on "
                        f"line {_line(code, start)}; must have at most 3 arguments (name, "
                        "packaging_policy, config); fix the call, then run init again"
                    )
                arg = f"{_TO_EXE_PARAMS[index]} = {arg.strip()}"
            named.append(arg.strip())
        args = [f"dist = {receiver}", *named, "vars = VARS", *extra]
        if "\n" in text[start:end]:  # a call laid out one argument a line stays that way
            line = text[text.rfind("\n", 0, start) + 1 :]
            indent = line[: len(line) - len(line.lstrip())]
            inner = "".join(f"\n{indent}    {arg}," for arg in args)
            call = f"{EXECUTABLE}({inner}\n{indent})"
        else:
            call = f"{EXECUTABLE}({', '.join(args)})"
        edits.append((receiver_start, end, call))
        receivers.append(receiver)
    return _apply(text, edits), receivers


def _code_mask(text: str, strings: bool = True) -> str:
    """``text`` with comments (and string literals) blanked: same length, newlines kept."""
    out = list(text)
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "#":
            while i < len(text) and text[i] != "\n":
                out[i] = " "
                i += 1
            continue
        if ch in "'\"":
            quote = text[i : i + 3] if text[i : i + 3] in ("'''", '"""') else ch
            j = i + len(quote)
            while j < len(text) and not text.startswith(quote, j):
                j += 2 if text[j] == "\\" else 1
            j = min(j + len(quote), len(text))
            if not strings:
                i = j
                continue
            for k in range(i, j):
                if text[k] != "\n":
                    out[k] = "_"
            out[i] = out[j - 1] = '"'
            i = j
            continue
        i += 1
    return "".join(out)


def _calls(code: str, name: str) -> list[tuple[int, int, int]]:
    """(start of ``name``, its "(", end after the matching ")") for each call in the code."""
    found = []
    for match in re.finditer(re.escape(name) + r"\s*\(", code):
        open_paren = match.end() - 1
        found.append((match.start(), open_paren, _matching(code, open_paren) + 1))
    return found


def _matching(code: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(code)):
        if code[i] in _CLOSING:
            depth += 1
        elif code[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
    raise ConfigError(
        f"init: invalid bracket {code[open_at]!r} on line {_line(code, open_at)}; must be "
        "closed (the file must be valid Starlark); fix it, then run init again"
    )


def _line(code: str, pos: int) -> int:
    return code.count("\n", 0, pos) + 1


def _receiver_start(code: str, dot: int) -> int:
    """Start of the expression before ``.method(`` at ``dot``: names, calls, subscripts."""
    i = dot
    while i > 0:
        ch = code[i - 1]
        if ch in ")]":
            depth = 0
            while i > 0:
                i -= 1
                if code[i] in ")]":
                    depth += 1
                elif code[i] in "([":
                    depth -= 1
                    if depth == 0:
                        break
        elif ch.isalnum() or ch in "_.":
            i -= 1
        else:
            break
    if i == dot:
        raise ConfigError(
            f"init: invalid to_python_executable() call on line {_line(code, dot)}; it has no "
            "distribution before the dot; must be DIST.to_python_executable(...); fix the call, "
            "then run init again"
        )
    return i


def _arguments(text: str, code: str, start: int, end: int) -> list[str]:
    """The top-level comma-separated arguments of ``text[start:end]`` (no trailing empty)."""
    args, depth, last = [], 0, start
    for i in range(start, end):
        if code[i] in _CLOSING:
            depth += 1
        elif code[i] in ")]}":
            depth -= 1
        elif code[i] == "," and depth == 0:
            args.append(text[last:i])
            last = i + 1
    args.append(text[last:end])
    return [a for a in args if a.strip()]


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _load_position(text: str) -> int:
    """Offset of the line after the header: comments, docstring and load() statements.

    A comment block counts as header only when a blank line ends it (a comment right above a
    def belongs to the def).
    """
    code = _code_mask(text)
    pos = after = 0
    while pos < len(code):
        end = code.find("\n", pos) + 1 or len(code)
        stripped = text[pos:end].strip()
        if not stripped:
            pos = end
            continue
        if stripped.startswith("#"):
            while text[end:].lstrip(" \t").startswith("#"):
                end = code.find("\n", end) + 1 or len(code)
            if text[end:].split("\n", 1)[0].strip():
                break  # the comment belongs to the code below it
        elif code.startswith("load(", pos) or code.startswith('"', pos):
            close = _matching(code, pos + 4) if code[pos] == "l" else code.index('"', pos + 1)
            end = code.find("\n", close) + 1 or len(code)
        else:
            break
        pos = after = end
    return after
