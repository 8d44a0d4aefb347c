"""The shim in the real binary: pyembed's own interpreter start, argv, __main__, exit codes,
the REPL, multiprocessing spawn workers, the two environment switches, lib/ and sys.frozen.

Each case compares, where it can, with the same probe app linked without the macros: the shim
must give the app exactly what the plain binary gives it.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path

import pytest

from support.env import clean_env

ARGS = ["info", "two words", "\u00e9t\u00e9 \u2713", ""]


def run(binary: Path, home: str, *args: str, stdin: str = "", **env: str):
    """Run ``binary args`` with a clean environment plus ``env``."""
    return subprocess.run(
        [str(binary), *args],
        env=clean_env(home, **env),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def info(binary: Path, home: str) -> dict[str, object]:
    proc = run(binary, home, *ARGS)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_run_module_keeps_what_the_plain_binary_gives(probe, home):
    ours, plain = info(probe["run_module"], home), info(probe["plain"], home)
    # pyembed's run_module gives argv[0] the module's origin: None for an in-memory module.
    assert ours["argv"] == plain["argv"] == [None, *ARGS]
    assert ours["main"] == plain["main"] == "__main__"
    assert (ours["bootstrap"], plain["bootstrap"]) == (True, False)
    assert ours["bootstrap_file"] is None  # loaded from memory


def test_run_command_keeps_argv_and_main(probe, home):
    out = info(probe["run_command"], home)
    # pyembed keeps the executable as argv[0] for run_command (not '-c' as python -c does).
    assert out["argv"] == [str(probe["run_command"]), *ARGS]
    assert out["main"] == "__main__" and out["bootstrap"] is True


def test_run_filename_runs_the_file_as_main(probe, home):
    out = info(probe["run_filename"], home)
    script = str(probe["script"])
    assert out["argv"][1:] == ARGS and out["main"] == "__main__"
    assert out["argv"][0] == out["main_file"] == script


@pytest.mark.parametrize("kind", ["run_module", "run_command", "run_filename", "plain"])
def test_exit_codes(kind, probe, home):
    assert run(probe[kind], home, "exit", "7").returncode == 7
    assert run(probe[kind], home, "exit", "0").returncode == 0
    boom = run(probe[kind], home, "raise")
    assert boom.returncode == 1
    assert boom.stderr.rstrip().endswith("ValueError: boom"), boom.stderr


def test_sys_frozen_and_lib_beside_the_binary(probe, home):
    out = info(probe["run_module"], home)
    assert out["frozen"] is True
    assert out["executable"] == str(probe["run_module"])
    # filesystem-relative:lib: the stdlib's shared extension modules load from lib/.
    lib = probe["run_module"].parent / "lib"
    assert Path(str(out["ssl_file"])).parent == lib
    assert (lib / Path(str(out["ssl_file"])).name).is_file()


def test_no_run_target_reads_a_script_from_stdin(probe, home):
    proc = run(
        probe["repl"],
        home,
        stdin="import sys; print(6 * 7, 'pyoxidizer_ssl_bootstrap' in sys.modules)\n",
    )
    assert (proc.returncode, proc.stdout) == (0, "42 True\n"), proc.stderr


def _talk(binary: Path, home: str, lines: list[str]) -> str:
    """Run ``binary`` on a pseudo-terminal, type ``lines``; everything it printed until exit."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [str(binary)],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=clean_env(home, TERM="dumb"),
        start_new_session=True,
    )
    os.close(terminal)
    for line in lines:
        os.write(controller, line.encode())
    output = b""
    deadline = time.monotonic() + 60  # a bound on a hung REPL, not a timing assertion
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the binary exited and closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    assert proc.wait(timeout=30) == 0, output
    return output.decode(errors="replace")


def test_no_run_target_is_a_repl_on_a_tty(probe, home):
    output = _talk(
        probe["repl"],
        home,
        ["import sys; print(6 * 7, 'pyoxidizer_ssl_bootstrap' in sys.modules)\n", "exit()\n"],
    )
    assert ">>> " in output
    assert "42 True" in output


def test_a_binary_without_its_bootstrap_still_runs_the_app(probe, home):
    """#16.3: the wrapped config with no bootstrap to import (as when resources land where the
    binary's importer cannot read them): the app runs with stock trust, same argv, __main__
    and exit codes, and one line on stderr names the cause and the fix."""
    proc = run(probe["broken"], home, *ARGS)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["argv"] == [None, *ARGS] and out["main"] == "__main__"
    assert out["bootstrap"] is False
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("pyoxidizer-ssl: the bootstrap did not load (ModuleNotFoundError: ")
    assert "pyoxidizer_ssl_bootstrap" in lines[0]
    assert "fix: embed pyoxidizer_ssl_bootstrap" in lines[0]
    assert run(probe["broken"], home, "exit", "7").returncode == 7
    boom = run(probe["broken"], home, "raise")
    assert boom.returncode == 1 and boom.stderr.rstrip().endswith("ValueError: boom")
    # The app's traceback is its own: not chained to the failed import.
    assert "During handling" not in boom.stderr, boom.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["-c", "print('not the app')"],
        ["-I", "-c", "from multiprocessing.resource_tracker import main;main(0); print(1)"],
        ["-I", "-c", "from multiprocessing.resource_tracker import main;main(-1)"],
        ["--multiprocessing-fork", "pipe_handle=x"],
        ["--multiprocessing-fork", "tracker_fd=1", "pipe_handle=2", "other=3"],
        ["-Z", "-c", "from multiprocessing.resource_tracker import main;main(0)"],
    ],
)
def test_no_general_interpreter(argv, probe, home):
    """Only the exact argv multiprocessing writes is a helper: anything else runs the app."""
    out = info_of(run(probe["run_module"], home, *argv))
    assert out["argv"] == [None, *argv] and out["main"] == "__main__"


def info_of(proc: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_forkserver_main_path_is_not_a_file_runner(probe, home, tmp_path: Path):
    """`<exe> -c 'from multiprocessing.forkserver import main; main(0, 0, ["__main__"],
    **{"main_path": FILE})'` passes every check in _multiprocessing._forkserver, and the stdlib's
    forkserver.main() then runs FILE with runpy before it touches the listener: whoever runs the
    binary runs any file of theirs in it (sudoers/allow-listed binaries: no AT_SECURE there)."""
    marker = tmp_path / "ran"
    planted = tmp_path / "planted.py"
    planted.write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    code = (
        "from multiprocessing.forkserver import main; "
        f"main(0, 0, ['__main__'], **{{'main_path': {str(planted)!r}}})"
    )
    run(probe["run_module"], home, "-c", code)
    assert not marker.exists(), "the binary ran a file named on its command line"
