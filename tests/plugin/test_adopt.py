"""`init`'s edit of an existing pyoxidizer.bzl: exactly what changes, and what never does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyoxidizer_ssl import adopt
from pyoxidizer_ssl.config import ConfigError
from support.env import clean_env
from support.parse_check import list_targets

LOAD = (
    'load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution", '
    '"pyoxidizer_ssl_executable")\n'
)
FILE = "init: invalid pyoxidizer.bzl 'pyoxidizer.bzl'"
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


# PyOxidizer's own generated layout: a comment between arguments, trailing commas, ")" alone.
GENERATED_CALL = """\
def make_exe():
    dist = default_python_distribution()
    exe = dist.to_python_executable(
        name="app",

        # If no argument passed, the default `PythonPackagingPolicy` for the
        # distribution is used.
        packaging_policy=policy,

        # If no argument passed, the default `PythonInterpreterConfig` is used.
        config=python_config,
    )
    return exe
"""

CASES += [
    (
        "comments between the arguments stay where they were (PyOxidizer's generated layout)",
        GENERATED_CALL,
        LOAD
        + "\n"
        + GENERATED_CALL.replace(
            "default_python_distribution()", "pyoxidizer_ssl_distribution(vars = VARS)"
        )
        .replace("dist.to_python_executable(", "pyoxidizer_ssl_executable(")
        .replace('        name="app",', '        dist = dist,\n        name="app",')
        .replace(
            "        config=python_config,\n",
            "        config=python_config,\n        vars = VARS,\n",
        ),
    ),
    (
        "a comment after the last argument, no trailing comma, a comment above the first",
        "def f(d):\n"
        "    return d.to_python_executable(  # the exe\n"
        "        # its name\n"
        "        'a',\n"
        "        packaging_policy = p  # the policy\n"
        "    )\n",
        LOAD_EXE_ONLY + "\n"
        "def f(d):\n"
        "    return pyoxidizer_ssl_executable(  # the exe\n"
        "        dist = d,\n"
        "        # its name\n"
        "        name = 'a',\n"
        "        packaging_policy = p,  # the policy\n"
        "        vars = VARS,\n"
        "    )\n",
    ),
    (
        "inline trailing comma; strings with escapes, parentheses and quotes; raw and triple",
        'X = r"(\\"" + """a ) (\n"""\n'
        "def f(d):\n"
        "    return d.to_python_executable(name = 'a)\\'(', config = c,)\n",
        LOAD_EXE_ONLY + "\n"
        'X = r"(\\"" + """a ) (\n"""\n'
        "def f(d):\n"
        "    return pyoxidizer_ssl_executable(dist = d, name = 'a)\\'(', config = c, "
        "vars = VARS)\n",
    ),
    (
        "nested multi-line arguments and a helper-made dist (a call receiver)",
        "def f():\n"
        "    exe = make_dist(flavor = [\n"
        '        "x",  # (\n'
        "    ]).to_python_executable(name = names(\n"
        "        1,\n"
        "    ), config = c)\n",
        LOAD_EXE_ONLY + "\n"
        "def f():\n"
        "    exe = pyoxidizer_ssl_executable(dist = make_dist(flavor = [\n"
        '        "x",  # (\n'
        "    ]), name = names(\n"
        "        1,\n"
        "    ), config = c, vars = VARS)\n",
    ),
    (
        "PythonDistribution(...) kept as it is; tabs kept",
        "def f():\n"
        '\tdist = PythonDistribution(sha256 = "00", local_path = "p.tar.zst")\n'
        "\texe = dist.to_python_executable(\n"
        '\t\tname = "a",\n'
        "\t)\n",
        LOAD_EXE_ONLY + "\n"
        "def f():\n"
        '\tdist = PythonDistribution(sha256 = "00", local_path = "p.tar.zst")\n'
        "\texe = pyoxidizer_ssl_executable(\n"
        "\t\tdist = dist,\n"
        '\t\tname = "a",\n'
        "\t\tvars = VARS,\n"
        "\t)\n",
    ),
    (
        "no arguments; a distribution call with a comment inside; load after loads and docstring",
        '"""Doc (with a paren."""\n'
        'load("other.bzl", "helper")\n'
        "\n"
        "def f():\n"
        "    d = default_python_distribution(  # defaults\n"
        "    )\n"
        "    return d.to_python_executable()\n",
        '"""Doc (with a paren."""\n'
        'load("other.bzl", "helper")\n' + LOAD + "\n"
        "def f():\n"
        "    d = pyoxidizer_ssl_distribution(vars = VARS  # defaults\n"
        "    )\n"
        "    return pyoxidizer_ssl_executable(dist = d, vars = VARS)\n",
    ),
    (
        "a distribution call laid out one argument a line, with a comment first",
        "def f():\n"
        "    d = default_python_distribution(\n"
        "        # the static one\n"
        '        flavor = "standalone_static",\n'
        "    )\n"
        "    return d.to_python_executable('a')\n",
        LOAD + "\n"
        "def f():\n"
        "    d = pyoxidizer_ssl_distribution(\n"
        "        vars = VARS,\n"
        "        # the static one\n"
        '        flavor = "standalone_static",\n'
        "    )\n"
        "    return pyoxidizer_ssl_executable(dist = d, name = 'a', vars = VARS)\n",
    ),
]


@pytest.mark.parametrize(("case", "before", "after"), CASES, ids=[c[0] for c in CASES])
def test_edit(case, before, after, tmp_path):
    adoption = adopt.adopt(before)
    assert adoption.text == after
    assert adopt.adopt(adoption.text) == adopt.Adoption(adoption.text, ())  # applied once
    (tmp_path / "other.bzl").write_text("def helper():\n    pass\n")  # one case load()s it
    parsed = list_targets(after, tmp_path, str(tmp_path))  # the real pyoxidizer reads it
    assert parsed.returncode == 0, parsed.stderr


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


STARLARK = "the file must be valid Starlark; fix it, then run init again"
NOTHING = "nothing was changed"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "def f():\n    return 1\n",
            0,
            f"{FILE}; it calls no DIST.to_python_executable(); {NOTHING}; must create its "
            "executable with one to be edited; call pyoxidizer_ssl_executable(dist = DIST, "
            "name = ..., vars = VARS) where it makes the executable",
        ),
        (
            "x = 1\nx = d.to_python_executable('a', p, c, 4)\n",
            2,
            f"{FILE}; line 2: to_python_executable() has 4 arguments; {NOTHING}; must have at "
            "most 3 (name, packaging_policy, config); fix the call, then run init again",
        ),
        (
            "x = d.to_python_executable('a'\n",
            1,
            f"{FILE}; line 1: bracket '(' is never closed; {NOTHING}; {STARLARK}",
        ),
        (
            "x = d.to_python_executable(name = 'a'))\n",
            1,
            f"{FILE}; line 1: unmatched closing bracket ')'; {NOTHING}; {STARLARK}",
        ),
        (
            "x = 1\ny = d.to_python_executable(name = 'a)\n",
            2,
            f'{FILE}; line 2: unterminated string "\'a)"; {NOTHING}; {STARLARK}',
        ),
        (
            "x = d.to_python_executable(name = 'a') $\n",
            1,
            f"{FILE}; line 1: unexpected character '$'; {NOTHING}; {STARLARK}",
        ),
        (
            'x = 1\n\nz = "dist".to_python_executable()\n',
            3,
            f"{FILE}; line 3: to_python_executable() has no distribution before the dot; "
            f"{NOTHING}; must be DIST.to_python_executable(...); fix the call, then run init "
            "again",
        ),
        (
            "def f(d):\n    return d.to_python_executable(*ARGS)\n",
            2,
            f"{FILE}; line 2: to_python_executable() is called with *ARGS, whose arguments init "
            f"cannot see; {NOTHING}; pass name, packaging_policy, config by name, then run init "
            "again",
        ),
        (
            "x = default_python_distribution(\n    **KW)\nd.to_python_executable('a')\n",
            2,
            f"{FILE}; line 2: default_python_distribution() is called with **KW, whose arguments "
            f"init cannot see; {NOTHING}; pass flavor, build_target, python_version by name, "
            "then run init again",
        ),
        (
            "def f(d):\n    return d.to_python_executable(name = 'a', policy = p)\n",
            2,
            f"{FILE}; line 2: to_python_executable() has an argument 'policy' that it does not "
            f"take; {NOTHING}; must be one of ['name', 'packaging_policy', 'config']; fix the "
            "call, then run init again",
        ),
    ],
)
def test_configs_init_cannot_edit(text, line, message):
    with pytest.raises(adopt.AdoptError) as err:
        adopt.adopt(text)
    assert str(err.value) == message
    assert err.value.line == line
    assert isinstance(err.value, ConfigError)  # the CLI's usage error: exit 2


def test_init_write_refuses_and_changes_nothing(tmp_path):
    """The CLI: exit 2, the line and the reason on stderr, the file and build/ untouched."""
    text = "def f(d):\n    return d.to_python_executable(*ARGS)\n"
    (tmp_path / "pyoxidizer.bzl").write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "pyoxidizer_ssl", "init", "--write"],
        cwd=tmp_path,
        env=clean_env(str(tmp_path)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "pyoxidizer-ssl init: error: init: invalid pyoxidizer.bzl 'pyoxidizer.bzl'; line 2: "
        "to_python_executable() is called with *ARGS, "
        f"whose arguments init cannot see; {NOTHING}; pass name, packaging_policy, config by "
        "name, then run init again\n"
    )
    assert (tmp_path / "pyoxidizer.bzl").read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyoxidizer.bzl"]


def test_requirements_file_naming_certifi_means_the_app_ships_it(tmp_path):
    (tmp_path / "requirements.txt").write_text("requests==2.32.3\ncertifi==2024.2.2  # pinned\n")
    (tmp_path / "other.txt").write_text("requests\n")
    text = (
        "def f(d):\n"
        "    exe = d.to_python_executable(name = 'a')\n"
        '    exe.add_python_resources(exe.pip_install(["-r", "{}"]))\n'
    )
    bzl = str(tmp_path / "pyoxidizer.bzl")
    assert 'certifi = "app"' in adopt.adopt(text.format("requirements.txt"), bzl).text
    assert 'certifi = "app"' not in adopt.adopt(text.format("other.txt"), bzl).text
    assert 'certifi = "app"' not in adopt.adopt(text.format("missing.txt"), bzl).text


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
