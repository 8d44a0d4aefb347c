"""Tokens of a Starlark file (PyOxidizer 0.24's dialect), with their exact offsets.

``init`` edits a user's pyoxidizer.bzl in place; to do that safely it must know, for every
character, whether it is code, a string or a comment, and where each bracket closes. This module
does only that: it splits the text into tokens (names, strings with any prefix and quoting,
numbers, operators, comments, newlines) without dropping or changing a character, and matches
brackets. It evaluates nothing. Whitespace, a backslash-newline continuation and indentation are
not tokens: the text between two tokens is whitespace by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["name", "string", "number", "op", "comment", "newline"]

OPENING = {"(": ")", "[": "]", "{": "}"}
CLOSING = {v: k for k, v in OPENING.items()}

# Longest first, so that "**=" is not read as "**" and "=".
_OPERATOR = re.compile(
    r"\*\*=|//=|<<=|>>=|->|[=!<>+\-*/%&|^]=|\*\*|//|<<|>>|[-+*/%&|^~<>=.,;:()\[\]{}!]"
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?")
# A string prefix (r, b, rb, br in any case) directly before the opening quote.
_PREFIX = re.compile(r"(?:[rRbB]|[rR][bB]|[bB][rR])(?=['\"])")
_SPACE = re.compile(r"(?:[ \t\f]|\\\r?\n)+")


class TokenError(ValueError):
    """The text is not Starlark this module can read: what and where (1-based line)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Token:
    """One token: its kind, its exact text, its offsets in the file and its 1-based line."""

    kind: Kind
    text: str
    start: int
    end: int
    line: int

    def is_op(self, *ops: str) -> bool:
        """Whether this is one of the operators ``ops``."""
        return self.kind == "op" and self.text in ops

    def string_value(self) -> str:
        """A string token's value with prefix and quotes removed (escapes are left as written)."""
        if self.kind != "string":
            raise ValueError(f"not a string token: {self.text!r}")
        body = self.text.lstrip("rRbB")
        quote = 3 if body[:3] in ('"""', "'''") else 1
        return body[quote:-quote]


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text`` in order; TokenError on an unterminated string or a stray byte."""
    tokens: list[Token] = []
    pos, line = 0, 1
    while pos < len(text):
        space = _SPACE.match(text, pos)
        if space:
            line += space.group().count("\n")
            pos = space.end()
            continue
        ch = text[pos]
        if ch in "\r\n":
            end = pos + (2 if text.startswith("\r\n", pos) else 1)
            tokens.append(Token("newline", text[pos:end], pos, end, line))
            line, pos = line + 1, end
            continue
        if ch == "#":
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            end -= 1 if text[end - 1 : end] == "\r" else 0
            tokens.append(Token("comment", text[pos:end], pos, end, line))
            pos = end
            continue
        prefix = _PREFIX.match(text, pos)
        if ch in "'\"" or prefix:
            end = _string_end(text, prefix.end() if prefix else pos, line)
            token = Token("string", text[pos:end], pos, end, line)
            tokens.append(token)
            line += token.text.count("\n")
            pos = end
            continue
        name = _NAME.match(text, pos)
        if name:
            tokens.append(Token("name", name.group(), pos, name.end(), line))
            pos = name.end()
            continue
        number = _NUMBER.match(text, pos)
        if number:
            tokens.append(Token("number", number.group(), pos, number.end(), line))
            pos = number.end()
            continue
        op = _OPERATOR.match(text, pos)
        if op is None:
            raise TokenError(line, f"unexpected character {ch!r}")
        tokens.append(Token("op", op.group(), pos, op.end(), line))
        pos = op.end()
    return tokens


def _string_end(text: str, quote_at: int, line: int) -> int:
    """Offset just after the string literal whose opening quote is at ``quote_at``."""
    quote = text[quote_at : quote_at + 3]
    if quote not in ('"""', "'''"):
        quote = text[quote_at]
    pos = quote_at + len(quote)
    while pos < len(text):
        if text.startswith(quote, pos):
            return pos + len(quote)
        ch = text[pos]
        if ch == "\\":
            pos += 2  # an escape; in a raw string a backslash still keeps the next quote
            continue
        if ch == "\n" and len(quote) == 1:
            break
        pos += 1
    raise TokenError(line, f"unterminated string {text[quote_at:].split(chr(10))[0][:20]!r}")


def code(tokens: list[Token]) -> list[Token]:
    """The tokens without comments and newlines: what brackets and arguments are made of."""
    return [t for t in tokens if t.kind not in ("comment", "newline")]


def matching(tokens: list[Token]) -> dict[int, int]:
    """For the code tokens ``tokens``: index of each opening bracket -> index of its closer.

    TokenError names the line of a bracket that is closed by the wrong one or never closed.
    """
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for i, token in enumerate(tokens):
        if token.kind != "op":
            continue
        if token.text in OPENING:
            stack.append(i)
        elif token.text in CLOSING:
            if not stack or tokens[stack[-1]].text != CLOSING[token.text]:
                raise TokenError(token.line, f"unmatched closing bracket {token.text!r}")
            pairs[stack.pop()] = i
    if stack:
        opener = tokens[stack[-1]]
        raise TokenError(opener.line, f"bracket {opener.text!r} is never closed")
    return pairs
