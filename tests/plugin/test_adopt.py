"""`init`'s edit of an existing pyoxidizer.bzl: exactly what changes, and what never does."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyoxidizer_ssl import adopt
from pyoxidizer_ssl.config import ConfigError

LOAD = (
    'load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution", '
    '"pyoxidizer_ssl_executable")\n'
)
LOAD_EXE_ONLY = 'load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_executable")\n'

CASES = [
    (
        "keyword arguments kept, distribution arguments kept",
        "def make_exe():\n"
        '    dist = default_python_distribution(flavor = "standalone_static", python_version = '
        '"3.8")\n'
        '    return dist.to_python_executable(name = "a", config = c)\n',
        LOAD + "\n"
        "def make_exe():\n"
        '    dist = pyoxidizer_ssl_distribution(vars = VARS, flavor = "standalone_static", '
        'python_version = "3.8")\n'
        '    return pyoxidizer_ssl_executable(dist = dist, name = "a", config = c, vars = VARS)\n',
    ),
    (
        "positional arguments named in to_python_executable's order; positional flavor",
        "# header\n\n"
        "def make_exe():\n"
        '    return default_python_distribution("standalone_dynamic")'
        '.to_python_executable("a", p, c)\n',
        "# header\n" + LOAD + "\n"
        "def make_exe():\n"
        "    return pyoxidizer_ssl_executable("
        'dist = pyoxidizer_ssl_distribution(VARS, "standalone_dynamic"), '
        'name = "a", packaging_policy = p, config = c, vars = VARS)\n',
    ),
    (
        "a call laid out one argument a line stays so; the app's certifi is kept",
        '"""Docstring."""\n'
        "def make_exe(dist):\n"
        "    exe = dist.to_python_executable(\n"
        '        name = "a",\n'
        "    )\n"
        '    exe.add_python_resources(exe.pip_install(["certifi==2024.2.2"]))\n',
        '"""Docstring."""\n' + LOAD_EXE_ONLY + "\n"
        "def make_exe(dist):\n"
        "    exe = pyoxidizer_ssl_executable(\n"
        "        dist = dist,\n"
        '        name = "a",\n'
        "        vars = VARS,\n"
        '        certifi = "app",\n'
        "    )\n"
        '    exe.add_python_resources(exe.pip_install(["certifi==2024.2.2"]))\n',
    ),
    (
        "comments and strings are not code; a comment above a def stays with it",
        "# make the exe; dist.to_python_executable(x) and certifi in a comment\n"
        "def make_exe(d):\n"
        "    c = d.make_python_interpreter_config()\n"
        '    c.run_command = "import certifi; x.to_python_executable(y)"\n'
        "    return d.to_python_executable(name = 'x', config = c)\n",
        LOAD_EXE_ONLY + "\n"
        "# make the exe; dist.to_python_executable(x) and certifi in a comment\n"
        "def make_exe(d):\n"
        "    c = d.make_python_interpreter_config()\n"
        '    c.run_command = "import certifi; x.to_python_executable(y)"\n'
        "    return pyoxidizer_ssl_executable(dist = d, name = 'x', config = c, vars = VARS)\n",
    ),
]


@pytest.mark.parametrize(("case", "before", "after"), CASES, ids=[c[0] for c in CASES])
def test_edit(case, before, after):
    adoption = adopt.adopt(before)
    assert adoption.text == after
    assert adopt.adopt(adoption.text) == adopt.Adoption(adoption.text, ())  # applied once


def test_several_executables_all_adopt():
    text = (
        "def a(d):\n    return d.to_python_executable(name = 'a')\n\n"
        "def b(d):\n    return d.to_python_executable(name = 'b')\n"
    )
    adoption = adopt.adopt(text)
    assert adoption.text.count("pyoxidizer_ssl_executable(dist = d, name =") == 2
    assert adoption.changes == (
        "load pyoxidizer_ssl_executable from build/pyoxidizer-ssl/pyoxidizer.bzl",
        "d.to_python_executable(...) -> pyoxidizer_ssl_executable(dist = d, ...)",
        "d.to_python_executable(...) -> pyoxidizer_ssl_executable(dist = d, ...)",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "def f():\n    return 1\n",
            "init: invalid pyoxidizer.bzl 'pyoxidizer.bzl'; it calls no "
            "DIST.to_python_executable(); must create its executable with one to be edited; call "
            "pyoxidizer_ssl_executable(dist = DIST, name = ..., vars = VARS) where it makes the "
            "executable",
        ),
        (
            "x = d.to_python_executable('a', p, c, 4)\n",
            "init: invalid to_python_executable() call \".to_python_executable('a', p, c, 4)\" "
            "on line 1; must have at most 3 arguments (name, packaging_policy, config); fix the "
            "call, then run init again",
        ),
        (
            "x = d.to_python_executable('a'\n",
            "init: invalid bracket '(' on line 1; must be closed (the file must be valid "
            "Starlark); fix it, then run init again",
        ),
        (
            'x = 1\n\nz = "dist".to_python_executable()\n',
            "init: invalid to_python_executable() call on line 3; it has no distribution "
            "before the dot; must be DIST.to_python_executable(...); fix the call, then run init "
            "again",
        ),
    ],
)
def test_configs_init_cannot_edit(text, message):
    with pytest.raises(ConfigError) as err:
        adopt.adopt(text)
    assert str(err.value) == message


def test_diff_is_a_unified_diff_that_applies():
    before = "def f(d):\n    return d.to_python_executable(name = 'a')\n"
    after = adopt.adopt(before).text
    assert adopt.diff(before, after, "pyoxidizer.bzl") == (
        "--- a/pyoxidizer.bzl\n"
        "+++ b/pyoxidizer.bzl\n"
        "@@ -1,2 +1,4 @@\n"
        f"+{LOAD_EXE_ONLY}"
        "+\n"
        " def f(d):\n"
        "-    return d.to_python_executable(name = 'a')\n"
        "+    return pyoxidizer_ssl_executable(dist = d, name = 'a', vars = VARS)\n"
    )


def test_starter_rejects_a_non_package_name():
    with pytest.raises(ConfigError) as err:
        adopt.starter("my-app")
    assert str(err.value) == (
        "--app: invalid package 'my-app'; must be a Python package name like 'myapp'; "
        "pass the package of the project that the executable runs"
    )


def test_readme_shows_the_edit_init_makes():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Adopting in an existing project", 1)[1]
    block = section.split("```diff\n", 1)[1].split("```", 1)[0]
    lines = block.splitlines(keepends=True)
    before = "".join(line[1:] for line in lines if line[0] in " -")
    after = "".join(line[1:] for line in lines if line[0] in " +")
    assert adopt.adopt(before).text == after
