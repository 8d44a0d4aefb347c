"""``pyoxidizer-ssl init``: the exact edit that adopts pyoxidizer-ssl in a project's pyoxidizer.bzl.

The edit is small and keeps everything of the user's own: a ``load()`` line; each
``default_python_distribution(ARGS)`` becomes ``pyoxidizer_ssl_distribution(vars = VARS, ARGS)``
(the same arguments, plus the offline archive when ``pyoxidizer-ssl build --distribution`` passes
one); each ``DIST.to_python_executable(ARGS)`` becomes ``pyoxidizer_ssl_executable(dist = DIST,
ARGS, vars = VARS)`` with positional arguments named. A config that names certifi in a string (a
``pip_install(["certifi==..."])``, ``packages = ["certifi"]``, or a requirements file it passes
with ``"-r"`` that lists it: the app ships its own) gets ``certifi = "app"``.

The config is read as Starlark tokens (``starlark_tokens``), never as text: comments and strings
are never code, brackets match, and every edit is an insertion or replacement at a token's exact
offset, so the user's comments, trailing commas, line layout and tabs stay where they were. A
call is laid out as it was (inline arguments inline; one argument a line, ours one a line too).
What cannot be edited safely (a ``*args`` / ``**kwargs`` call, an unknown keyword, a file that is
not valid Starlark) raises ``AdoptError`` naming the line and the reason, and nothing changes.
The result is tokenized again before it is returned, so ``init`` never writes a file whose
brackets or strings do not close.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from .config import ConfigError
from .starlark_tokens import Token, TokenError, code, matching, tokenize

LOAD_PATH = "build/pyoxidizer-ssl/pyoxidizer.bzl"
DISTRIBUTION = "pyoxidizer_ssl_distribution"
EXECUTABLE = "pyoxidizer_ssl_executable"
# to_python_executable(name, packaging_policy = None, config = None): positional order.
_TO_EXE_PARAMS = ("name", "packaging_policy", "config")
# default_python_distribution(flavor, build_target, python_version): what the macro passes on.
_DIST_PARAMS = ("flavor", "build_target", "python_version")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A string naming certifi as a requirement or package ("certifi", "certifi==2024.2.2").
_APP_CERTIFI = re.compile(r"\s*certifi(\s*[<>=!~;\[].*)?\s*", re.DOTALL)
_KEYWORDS = frozenset(
    {"and", "break", "continue", "def", "elif", "else", "for", "if", "in", "lambda", "load"}
    | {"not", "or", "pass", "return", "while"}
)

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


class AdoptError(ConfigError):
    """``init`` cannot edit the config safely: the 1-based ``line`` (0: the whole file) and why.

    The message names the file, the line, the reason and the fix; nothing has been changed.
    """

    def __init__(self, path: str, line: int, reason: str, fix: str) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(
            f"init: invalid pyoxidizer.bzl {path!r}; {where}{reason}; nothing was changed; {fix}"
        )
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Adoption:
    """The adopted config text and what the edit did, one line each."""

    text: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class _Edit:
    """Replace ``text[start:end]`` by ``new``; among edits at one offset, lower ``order`` first."""

    start: int
    end: int
    new: str
    order: int = 0


@dataclass(frozen=True)
class _Args:
    """A call's top-level arguments: (first, last) code-token indexes each; its trailing comma."""

    spans: list[tuple[int, int]]
    trailing_comma: int | None


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

    AdoptError (a ConfigError) when it creates no executable with ``to_python_executable()``
    or when a call cannot be edited safely; an already adopted config comes back unchanged.
    ``path`` names the file in messages; requirements files it passes with ``-r`` are read
    relative to its directory (where ``pyoxidizer-ssl build`` runs).
    """
    editor = _Editor(text, path)
    if editor.adopted():
        return Adoption(text, ())
    return editor.adopt()


class _Editor:
    """One config's tokens and the edits that adopt it."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        try:
            self.all = tokenize(text)
            self.toks = code(self.all)
            self.pairs = matching(self.toks)
        except TokenError as err:
            raise AdoptError(
                path,
                err.line,
                err.reason,
                "the file must be valid Starlark; fix it, then run init again",
            ) from None
        self.openers = {close: open_ for open_, close in self.pairs.items()}

    def adopted(self) -> bool:
        """Whether the config already calls pyoxidizer_ssl_executable()."""
        return any(self._call_of(i, EXECUTABLE) for i in range(len(self.toks)))

    def adopt(self) -> Adoption:
        calls = [i for i in range(len(self.toks)) if self._method_call(i, "to_python_executable")]
        if not calls:
            raise AdoptError(
                self.path,
                0,
                "it calls no DIST.to_python_executable()",
                "must create its executable with one to be edited; call "
                f"{EXECUTABLE}(dist = DIST, name = ..., vars = VARS) where it makes the "
                "executable",
            )
        app_certifi = self._app_certifi()
        extra = ['certifi = "app"'] if app_certifi else []
        edits: list[_Edit] = []
        dists = [
            i for i in range(len(self.toks)) if self._call_of(i, "default_python_distribution")
        ]
        for i in dists:
            edits += self._distribution_edits(i)
        receivers = []
        for i in calls:
            receiver, call_edits = self._executable_edits(i, extra, edits)
            receivers.append(receiver)
            edits += call_edits
        names = ([DISTRIBUTION] if dists else []) + [EXECUTABLE]
        edits.append(self._load_edit(names))
        changes = [f"load {', '.join(names)} from {LOAD_PATH}"]
        if dists:
            changes.append(f"default_python_distribution(...) -> {DISTRIBUTION}(vars = VARS, ...)")
        changes += [
            f"{r}.to_python_executable(...) -> {EXECUTABLE}(dist = {r}, ...)" for r in receivers
        ]
        if app_certifi:
            changes.append(
                'certifi = "app": the config adds its own certifi, which stays the only copy'
            )
        after = self._apply(edits)
        try:
            matching(code(tokenize(after)))
        except TokenError as err:  # pragma: no cover - a bug in the edits above
            raise AssertionError(f"init produced unreadable Starlark: {err}") from None
        return Adoption(after, tuple(changes))

    # -- finding calls ---------------------------------------------------------------------

    def _call_of(self, i: int, name: str) -> bool:
        """A call of the global function ``name`` at code token ``i`` (not a method, not a def)."""
        toks = self.toks
        if not (toks[i].kind == "name" and toks[i].text == name):
            return False
        if i + 1 >= len(toks) or not toks[i + 1].is_op("("):
            return False
        before = toks[i - 1] if i else None
        return before is None or not (
            before.is_op(".") or (before.kind == "name" and before.text == "def")
        )

    def _method_call(self, i: int, name: str) -> bool:
        """``.name(`` at code token ``i`` (the name)."""
        toks = self.toks
        return (
            toks[i].kind == "name"
            and toks[i].text == name
            and i > 0
            and toks[i - 1].is_op(".")
            and i + 1 < len(toks)
            and toks[i + 1].is_op("(")
        )

    def _arguments(self, open_: int) -> _Args:
        """The top-level arguments between the "(" at code index ``open_`` and its ")"."""
        close = self.pairs[open_]
        spans: list[tuple[int, int]] = []
        first = open_ + 1
        i = first
        while i < close:
            token = self.toks[i]
            if token.kind == "op" and token.text in "([{" and i in self.pairs:
                i = self.pairs[i] + 1
                continue
            if token.is_op(","):
                if i == first:
                    raise AdoptError(
                        self.path,
                        token.line,
                        "an empty argument",
                        "fix the call, then run init again",
                    )
                spans.append((first, i - 1))
                first = i + 1
            i += 1
        if first < close:
            spans.append((first, close - 1))
            return _Args(spans, None)
        trailing = first - 1 if spans else None
        return _Args(spans, trailing)

    def _keyword(self, span: tuple[int, int]) -> str | None:
        """The keyword of an argument ``name = value``, else None (positional)."""
        first, last = span
        toks = self.toks
        if first < last and toks[first].kind == "name" and toks[first + 1].is_op("="):
            return toks[first].text
        return None

    def _check_arguments(self, args: _Args, call: str, allowed: tuple[str, ...]) -> None:
        """Refuse what the edit cannot keep: *args, **kwargs, unknown or too many arguments."""
        for index, span in enumerate(args.spans):
            token = self.toks[span[0]]
            keyword = self._keyword(span)
            if token.is_op("*", "**"):
                raise AdoptError(
                    self.path,
                    token.line,
                    f"{call}() is called with {token.text}{self.toks[span[0] + 1].text}, whose "
                    "arguments init cannot see",
                    f"pass {', '.join(allowed)} by name, then run init again",
                )
            if keyword is not None and keyword not in allowed:
                raise AdoptError(
                    self.path,
                    token.line,
                    f"{call}() has an argument {keyword!r} that it does not take",
                    f"must be one of {list(allowed)}; fix the call, then run init again",
                )
            if keyword is None and index >= len(allowed):
                raise AdoptError(
                    self.path,
                    token.line,
                    f"{call}() has {len(args.spans)} arguments",
                    f"must have at most {len(allowed)} ({', '.join(allowed)}); fix the call, "
                    "then run init again",
                )

    # -- the edits -------------------------------------------------------------------------

    def _distribution_edits(self, i: int) -> list[_Edit]:
        """default_python_distribution(ARGS) -> pyoxidizer_ssl_distribution(vars = VARS, ARGS)."""
        args = self._arguments(i + 1)
        self._check_arguments(args, "default_python_distribution", _DIST_PARAMS)
        name = self.toks[i]
        edits = [_Edit(name.start, name.end, DISTRIBUTION)]
        if not args.spans:
            open_ = self.toks[i + 1]
            return [*edits, _Edit(open_.end, open_.end, "vars = VARS")]
        positional = self._keyword(args.spans[0]) is None
        item = "VARS" if positional else "vars = VARS"  # vars is the macro's first parameter
        return [*edits, self._prepend(i + 1, args, [item])]

    def _executable_edits(
        self, i: int, extra: list[str], earlier: list[_Edit]
    ) -> tuple[str, list[_Edit]]:
        """DIST.to_python_executable(ARGS) -> pyoxidizer_ssl_executable(dist = DIST, ARGS, ...).

        The receiver's text moves into ``dist = ``; edits in ``earlier`` that fall inside it
        (a default_python_distribution() call) are applied to the moved text and dropped there.
        """
        toks = self.toks
        start = self._receiver_start(i - 1)
        span = (toks[start].start, toks[i - 2].end)
        receiver = self.text[span[0] : span[1]]
        inside = [e for e in earlier if span[0] <= e.start and e.end <= span[1]]
        for edit in inside:
            earlier.remove(edit)
        moved = self._apply(inside, *span)
        args = self._arguments(i + 1)
        self._check_arguments(args, "to_python_executable", _TO_EXE_PARAMS)
        edits = [_Edit(toks[start].start, toks[i + 1].end, f"{EXECUTABLE}(")]
        tail = ["vars = VARS", *extra]
        if not args.spans:
            at = toks[i + 1].end
            return receiver, [*edits, _Edit(at, at, ", ".join([f"dist = {moved}", *tail]))]
        edits.append(self._prepend(i + 1, args, [f"dist = {moved}"]))
        for index, span in enumerate(args.spans):
            if self._keyword(span) is None:
                at = toks[span[0]].start
                edits.append(_Edit(at, at, f"{_TO_EXE_PARAMS[index]} = ", order=1))
        edits.append(self._append(i + 1, args, tail))
        return receiver, edits

    def _receiver_start(self, dot: int) -> int:
        """Code index where the expression before ``.method(`` (the "." at ``dot``) starts."""
        toks = self.toks
        j, start = dot - 1, None
        while j >= 0:
            token = toks[j]
            if token.kind == "name" and token.text not in _KEYWORDS:
                start = j
                if j > 0 and toks[j - 1].is_op("."):
                    j -= 2
                    continue
                break
            if token.is_op(")", "]") and j in self.openers:
                start = self.openers[j]
                j = start - 1
                if j >= 0 and (
                    (toks[j].kind == "name" and toks[j].text not in _KEYWORDS)
                    or toks[j].is_op(")", "]")
                ):
                    continue  # a call or a subscript: its callee is part of the receiver
                break
            break
        if start is None:
            raise AdoptError(
                self.path,
                toks[dot].line,
                "to_python_executable() has no distribution before the dot",
                "must be DIST.to_python_executable(...); fix the call, then run init again",
            )
        return start

    def _prepend(self, open_: int, args: _Args, items: list[str]) -> _Edit:
        """Insert ``items`` before the first argument, in the call's own layout."""
        paren = self.toks[open_]
        first = self.toks[args.spans[0][0]]
        if first.line == paren.line:
            return _Edit(first.start, first.start, "".join(f"{item}, " for item in items))
        # One argument a line: ours go on their own lines above the first line after "(" that
        # holds anything (a comment above the first argument stays with it).
        lead = next(t for t in self.all if t.start > paren.start and t.line > paren.line)
        indent = self._indent(lead)
        return _Edit(lead.start, lead.start, "".join(f"{item},\n{indent}" for item in items))

    def _append(self, open_: int, args: _Args, items: list[str]) -> _Edit:
        """Insert ``items`` after the last argument, in the call's own layout."""
        close = self.toks[self.pairs[open_]]
        last = self.toks[args.spans[-1][1]]
        comma = self.toks[args.trailing_comma] if args.trailing_comma is not None else None
        end = comma or last
        if close.line == end.line + end.text.count("\n"):
            joined = ", ".join(items)
            if comma is None:
                return _Edit(last.end, last.end, f", {joined}")
            return _Edit(comma.end, comma.end, f" {joined}")
        # ")" on a later line: ours go one a line after the line that ends the last argument
        # (after its comment, if any), with that argument's indentation.
        first = self.toks[args.spans[-1][0]]
        indent = self._indent(first)
        lines = "".join(f"\n{indent}{item}," for item in items)
        line_end = self.text.find("\n", end.end)
        line_end = len(self.text) if line_end < 0 else line_end
        line_end -= 1 if self.text[line_end - 1 : line_end] == "\r" else 0
        if comma is None:
            return _Edit(last.end, line_end, "," + self.text[last.end : line_end] + lines)
        return _Edit(line_end, line_end, lines)

    def _indent(self, token: Token) -> str:
        """The whitespace before ``token`` on its line, if only whitespace precedes it."""
        line_start = self.text.rfind("\n", 0, token.start) + 1
        indent = self.text[line_start : token.start]
        return indent if not indent.strip() else " " * 4

    def _load_edit(self, names: list[str]) -> _Edit:
        load = "load(" + ", ".join(f'"{n}"' for n in [LOAD_PATH, *names]) + ")\n"
        at = self._load_position()
        if self.text[at:].split("\n", 1)[0].strip():  # code right below: keep a blank line
            load += "\n"
        if at and not self.text[:at].endswith("\n"):
            load = "\n" + load
        return _Edit(at, at, load, order=-1)

    def _load_position(self) -> int:
        """Offset of the line after the header: comments, a docstring and load() statements.

        A comment block counts as header only when a blank line ends it (a comment right above
        a def belongs to the def).
        """
        after = 0
        tokens = self.all
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.kind == "newline":
                i += 1
                continue
            if token.kind == "comment":
                j = i
                while (
                    j + 2 < len(tokens)
                    and tokens[j + 1].kind == "newline"
                    and (tokens[j + 2].kind == "comment")
                ):
                    j += 2
                # The block ends at tokens[j]; a blank line (two newlines) must follow it.
                if not (
                    j + 1 >= len(tokens)
                    or (
                        tokens[j + 1].kind == "newline"
                        and (j + 2 >= len(tokens) or tokens[j + 2].kind == "newline")
                    )
                ):
                    break
                i = j + 1
            elif token.kind == "string" or (token.kind == "name" and token.text == "load"):
                end = token
                if token.kind == "name":
                    k = self.toks.index(token)
                    if k + 1 >= len(self.toks) or not self.toks[k + 1].is_op("("):
                        break
                    end = self.toks[self.pairs[k + 1]]
                i = next((n for n, t in enumerate(tokens) if t.start >= end.end), len(tokens))
                while i < len(tokens) and tokens[i].kind == "comment":
                    i += 1
                if i < len(tokens) and tokens[i].kind != "newline":
                    break  # more code on the docstring's or load()'s line
            else:
                break
            after = tokens[i].end if i < len(tokens) else len(self.text)  # after the newline
            i += 1
        return after

    def _app_certifi(self) -> bool:
        """Whether the config adds its own certifi: a string names it, or a -r file lists it."""
        toks = [t for t in self.toks if t.kind == "string"]
        for n, token in enumerate(toks):
            if _APP_CERTIFI.fullmatch(token.string_value()):
                return True
            requirements = token.string_value() in ("-r", "--requirement") and n + 1 < len(toks)
            if requirements and self._requirements_name_certifi(toks[n + 1].string_value()):
                return True
        return False

    def _requirements_name_certifi(self, name: str) -> bool:
        """Whether the requirements file ``name`` (relative to the config's directory) lists
        certifi itself (a line, not a dependency of one)."""
        path = Path(self.path).parent / name
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return False
        return any(_APP_CERTIFI.fullmatch(line.split("#", 1)[0]) for line in lines)

    def _apply(self, edits: list[_Edit], start: int = 0, end: int | None = None) -> str:
        """``text[start:end]`` with ``edits`` (inside that range) made."""
        end = len(self.text) if end is None else end
        out, pos = [], start
        for edit in sorted(edits, key=lambda e: (e.start, e.order, e.end)):
            if edit.start < pos:  # two edits overlap: a call inside another's receiver
                line = self.text.count("\n", 0, edit.start) + 1
                raise AdoptError(
                    self.path,
                    line,
                    "a call to edit sits inside another one",
                    "make the distribution and the executable in separate statements, then "
                    "run init again",
                )
            out.append(self.text[pos : edit.start])
            out.append(edit.new)
            pos = edit.end
        out.append(self.text[pos:end])
        return "".join(out)
