"""The tokenizer `init` edits with: every character accounted for, strings and comments whole."""

from __future__ import annotations

import re

import pytest

from pyoxidizer_ssl.starlark_tokens import TokenError, code, matching, tokenize

TEXT = (
    "# a comment with ( and 'quote\n"
    "def f(a, b = [1, 0x1F],):\n"
    '\tx = r"\\"(" + b"\\n)" + """multi\n\'\'\' ( line""" + \'\'\'x"\'\'\'  # after\n'
    "    return a.g(x) ** 2 // 3 != 4\n"
    "y = 1 + \\\n    2\n"
)


def test_tokens_cover_the_text_and_the_gaps_are_whitespace():
    tokens = tokenize(TEXT)
    pos = 0
    for token in tokens:
        assert re.fullmatch(r"(?:[ \t\f]|\\\n)*", TEXT[pos : token.start])
        assert TEXT[token.start : token.end] == token.text
        pos = token.end
    assert TEXT[pos:] == ""
    strings = [t.text for t in tokens if t.kind == "string"]
    assert strings == ['r"\\"("', 'b"\\n)"', '"""multi\n\'\'\' ( line"""', "'''x\"'''"]
    assert [t.text for t in tokens if t.kind == "comment"] == [
        "# a comment with ( and 'quote",
        "# after",
    ]
    assert [t.line for t in tokens if t.text == "return"] == [5]  # the triple string spans 2
    assert [t.text for t in tokens if t.kind == "op" and len(t.text) == 2] == ["**", "//", "!="]


def test_brackets_match_across_lines_and_strings():
    toks = code(tokenize(TEXT))
    pairs = matching(toks)
    opener = next(i for i, t in enumerate(toks) if t.text == "(")
    assert toks[pairs[opener]].text == ")" and toks[pairs[opener] + 1].text == ":"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("x = 1\ny = 'abc\n", 2, 'unterminated string "\'abc"'),
        ('x = """abc\n', 1, 'unterminated string \'"""abc\''),
        ("x = (1,\n 2]\n", 2, "unmatched closing bracket ']'"),
        ("x = [\n(1)\n", 1, "bracket '[' is never closed"),
        ("x = 1 ? 2\n", 1, "unexpected character '?'"),
    ],
)
def test_errors_name_the_line(text, line, reason):
    with pytest.raises(TokenError) as err:
        matching(code(tokenize(text)))
    assert (err.value.line, err.value.reason) == (line, reason)
