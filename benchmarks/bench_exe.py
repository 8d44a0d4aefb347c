"""P1-P3 and size on the real binary: the probe app linked with the shim and without it.

    .venv/bin/python benchmarks/bench_exe.py [--runs 40]
    .venv/bin/python benchmarks/bench_exe.py --callgrind [--runs 3] [--release]

Builds tests/exe/probe_project's `pair` target (the same app through pyoxidizer-ssl's macros and
without them) with the real pyoxidizer and the machine's Rust, like tests/exe does (the cargo
target directory is the tests' one in .pytest_cache, so after a test run this takes ~1 minute).

P1 start-up    `probe exit 0` with the shim vs without it, interleaved runs (drift hits both
               alike), wall-clock medians; CPython 3.10's `python -I -S -c pass` beside it as
               the strict reference, and the shim with PYOXIDIZER_SSL_DISABLE=1 (its run
               target machinery without the import hook). The probe imports nothing for `exit`.
P2 per context ssl.create_default_context() inside the binary, in the RHEL 7 layout: ours vs
               the plain binary with SSL_CERT_FILE naming the distro bundle (what a frozen app
               does without us) and a bare SSLContext in the plain binary (the floor).
P3 per request a urllib GET on a new connection to a loopback server, same three set-ups.
Size           the binary with and without the shim, as built (debug) and stripped; report only.

--first        only the first TLS context of a run (#20.4), in the RHEL 7 layout, with no
               store (certifi) and in Fedora 43's (directory-hash: the hashed copy's verdict is
               what is kept), interleaved runs of one process per mode in one namespace per
               layout, once the layout settled (3.2 s): the plain binary's bare first SSLContext
               (the floor), ours finding its
               between-runs cache entry (hit), finding none in memory (XDG_RUNTIME_DIR, a tmpfs
               0700) and on disk (~/.cache: a key's first miss there leaves a marker, its second
               publishes), and with --baseline CHECKOUT that checkout's binary
               (built with its own .venv); then each counted in instructions (callgrind: the
               run minus `probe exit 0` of the same binary).

--callgrind    instructions instead of time (valgrind --tool=callgrind, the median of --runs
               counts: hash randomisation moves a count by ~0.1 M): start-up added by the shim
               for each run target (run_module, run_command, run_filename: `probe exit 0`; the
               REPL with an empty stdin), each against the same target linked without the
               macros (the `startup` target); and the import tax: `probe imports 300` (300
               generated modules, probe/many/, written into the copy built here) minus
               `probe exit 0`, with the shim vs without, per import.

--release      link release binaries (`pyoxidizer build --release`: what users ship; optimised
               Rust) instead of pyoxidizer's default debug build; with any of the above. The
               first release build compiles pyembed's crates again (minutes), later ones link.

Absolute times vary between runs and machines; the ratios within one run are the result.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import certifi
import trustme

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "python")]

from bench import arguments, print_table, workspace  # noqa: E402  (beside this script)
from support.distribution import cached  # noqa: E402
from support.env import clean_env, python_for  # noqa: E402
from support.exe import build_tree, find_rust  # noqa: E402
from support.layouts import RHEL_BUNDLE, namespaces_available, run_in_layout  # noqa: E402
from support.tls import https_server  # noqa: E402

CACHE = ROOT / ".pytest_cache" / "d"
PROBE = ROOT / "tests" / "exe" / "probe_project"

Row = tuple[str, float, str]


def build_pair(work: Path, home: str, release: bool = False) -> tuple[Path, Path]:
    """Link the probe with and without the shim; return (ours, plain)."""
    python = python_for("3.10")
    assert python is not None, "needs a local CPython 3.10 (pyenv install 3.10)"
    dist = cached(python, CACHE / "distributions", linkable=True)
    rust = find_rust(CACHE / "cargo-target")
    project = work / "probe"
    shutil.copytree(PROBE, project, ignore=shutil.ignore_patterns("build", "__pycache__"))
    tree = build_tree(project, dist, rust, home, "pair", release=release)
    return tree / "run_module" / "probe-run_module", tree / "plain" / "probe-plain"


MANY = 300  # modules the import-tax probe imports


def build_startup(work: Path, home: str, release: bool = False) -> Path:
    """Link each run target with and without the shim, plus 300 tiny modules; the tree."""
    python = python_for("3.10")
    assert python is not None, "needs a local CPython 3.10 (pyenv install 3.10)"
    dist = cached(python, CACHE / "distributions", linkable=True)
    rust = find_rust(CACHE / "cargo-target")
    project = work / "probe"
    shutil.copytree(PROBE, project, ignore=shutil.ignore_patterns("build", "__pycache__"))
    many = project / "probe" / "many"
    many.mkdir()
    (many / "__init__.py").write_text("")
    for i in range(MANY):
        (many / f"m{i}.py").write_text(f"VALUE = {i}\n")
    script = work / "script.py"
    script.write_text('from probe.cli import main\n\nif __name__ == "__main__":\n    main()\n')
    return build_tree(
        project, dist, rust, home, "startup", "--var", "PROBE_SCRIPT", str(script), release=release
    )


def _instructions(argv: list[str], env: dict[str, str], runs: int) -> float:
    """Median instructions (millions) of ``argv`` under callgrind, stdin empty."""
    counts = []
    for _ in range(runs):
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=True,
        )
        counts.append(int(proc.stderr.split("Collected :")[1].split()[0]) / 1e6)
    return statistics.median(counts)


def callgrind(tree: Path, home: str, runs: int) -> list[Row]:
    """Start-up per run target and the import tax, in millions of instructions."""
    env = clean_env(home)
    rows: list[Row] = []

    def binary(kind: str) -> str:
        return str(tree / kind / f"probe-{kind}")

    for label, ours, plain, args in (
        ("run_module", "run_module", "plain", ["exit", "0"]),
        ("run_command", "run_command", "plain_run_command", ["exit", "0"]),
        ("run_filename", "run_filename", "plain_run_filename", ["exit", "0"]),
        ("REPL, empty stdin", "repl", "plain_repl", []),
    ):
        base = _instructions([binary(plain), *args], env, runs)
        with_shim = _instructions([binary(ours), *args], env, runs)
        added = with_shim - base
        rows.append((f"start {label}: without the shim (M instr)", base, "1.00"))
        rows.append(
            (
                f"start {label}: with the shim (M instr)",
                with_shim,
                f"+{added:.3f} M, {100 * added / base:+.2f}% of the binary's start",
            )
        )
    off = _instructions(
        [binary("run_module"), "exit", "0"], clean_env(home, PYOXIDIZER_SSL_DISABLE="1"), runs
    )
    rows.append(("start run_module, PYOXIDIZER_SSL_DISABLE=1 (M instr)", off, "-"))
    tax = {}
    for kind in ("run_module", "plain"):
        imports = _instructions([binary(kind), "imports", str(MANY)], env, runs)
        start = _instructions([binary(kind), "exit", "0"], env, runs)
        tax[kind] = imports - start
    per = (tax["run_module"] - tax["plain"]) * 1e6 / (MANY + 1)  # + probe.many itself
    rows.append((f"{MANY} imports, without the shim (M instr)", tax["plain"], "1.00"))
    rows.append(
        (
            f"{MANY} imports, with the shim (M instr)",
            tax["run_module"],
            f"{per / 1000:+.2f} K instructions per import",
        )
    )
    return rows


def _wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter_ns()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return (time.perf_counter_ns() - start) / 1e6


def p1_startup(ours: Path, plain: Path, home: str, runs: int) -> list[Row]:
    env = clean_env(home)
    python = python_for("3.10")
    off = clean_env(home, PYOXIDIZER_SSL_DISABLE="1")
    commands = {
        "python": ([str(python), "-I", "-S", "-c", "pass"], env),
        "plain": ([str(plain), "exit", "0"], env),
        "ours": ([str(ours), "exit", "0"], env),
        "off": ([str(ours), "exit", "0"], off),
    }
    for argv, argv_env in commands.values():  # warm the page cache
        _wall(argv, argv_env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for i in range(runs):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            times[name].append(_wall(*commands[name]))
    median = {name: statistics.median(values) for name, values in times.items()}
    added = median["ours"] - median["plain"]
    return [
        ("P1 CPython 3.10 python -I -S -c pass (reference)", median["python"], "1.00"),
        (
            "P1 binary start, without the shim",
            median["plain"],
            f"{median['plain'] / median['python']:.2f}x python -I -S",
        ),
        (
            "P1 binary start, with the shim",
            median["ours"],
            f"{median['ours'] / median['python']:.2f}x python -I -S",
        ),
        (
            "P1 binary start, with the shim, PYOXIDIZER_SSL_DISABLE=1",
            median["off"],
            f"{median['off'] / median['python']:.2f}x python -I -S",
        ),
        (
            "P1 added by the shim",
            added,
            f"{100 * added / median['plain']:+.2f}% of the binary's start, "
            f"{100 * added / median['python']:+.2f}% of python -I -S",
        ),
    ]


def p2_p3(ours: Path, plain: Path, home: str, runs: int, work: Path) -> list[Row]:
    if not namespaces_available():
        return [("P2/P3 skipped: needs root and unshare -m for the RHEL 7 layout", 0.0, "-")]
    ca = trustme.CA()
    roots = Path(certifi.where()).read_bytes().split(b"-----END CERTIFICATE-----")[:140]
    bundle = b"".join(r + b"-----END CERTIFICATE-----" for r in roots) + b"\n"
    bundle += ca.cert_pem.bytes()

    def timed(binary: Path, what: str, url: str, **env: str) -> float:
        argv = [str(binary), "time", what, str(runs), url]
        place = work / f"{binary.name}-{what}-{len(env)}"  # a fresh overlay for every run
        proc = run_in_layout("rhel7", argv, clean_env(home, **env), place, bundle)
        assert proc.returncode == 0, proc.stderr[-2000:]
        result: float = json.loads(proc.stdout)["median"]
        return result

    rows: list[Row] = []
    with https_server(ca) as url:
        for label, what in (
            ("P2 RHEL 7 per context", "context"),
            ("P3 RHEL 7 urllib GET", "urlopen"),
        ):
            base = timed(ours, what, url)
            file = timed(plain, what, url, SSL_CERT_FILE=RHEL_BUNDLE)
            rows.append((f"{label}: ours", base, "1.00"))
            rows.append((f"{label}: plain + SSL_CERT_FILE", file, f"{file / base:.1f}x slower"))
        floor = timed(plain, "bare", url)
        base = rows[0][1]
        rows.insert(
            1, ("P2 RHEL 7 per context: bare SSLContext (floor)", floor, f"{floor / base:.2f}")
        )
    return rows


# Runs inside a layout: the modes' processes in turn, N rounds; then each counted once.
FIRST_DRIVER = r"""
import json, os, shutil, subprocess, sys, time
spec = json.loads(sys.argv[1])
os.makedirs("/var/bench-home/.cache", mode=0o700, exist_ok=True)  # XDG_CACHE_HOME (clean_env)
os.chmod("/var/bench-home", 0o700)
os.makedirs("/var/bench-run", exist_ok=True)
subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=700", "tmpfs", "/var/bench-run"], check=True)
# The layout was written moments ago: what a run reads settles first, as a host's store has
# (a file changed in the last 3 s is never remembered between runs: _cache, _verdicts RACY_NS).
time.sleep(3.2)

def empty(clear):
    if clear and clear.startswith("republish:"):  # entries gone, their keys seen: publishes
        clear = clear.split(":", 1)[1]
        for name in os.listdir(clear) if os.path.isdir(clear) else []:
            if name.startswith("e-"):
                shutil.rmtree(os.path.join(clear, name))
                open(os.path.join(clear, "s-" + name[2:]), "w").close()
    elif clear:
        shutil.rmtree(clear, ignore_errors=True)

def once(argv, env, clear):
    empty(clear)
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(" ".join(argv) + ": " + proc.stderr[-2000:])
    return json.loads(proc.stdout.splitlines()[-1])["first"]

out = {name: [] for name in spec["modes"]}
for _ in range(spec["runs"]):
    for name, (argv, env, clear) in spec["modes"].items():
        out[name].append(once(argv, env, clear))
counts = {}
if spec["count"]:
    for name, (argv, env, clear) in spec["modes"].items():
        total = []
        for command in (argv, [argv[0], "exit", "0"]):
            once(argv, env, None)  # the entry as the mode finds it (none, for a miss)
            empty(clear)
            log = "/tmp/callgrind.out.first.%d" % os.getpid()
            subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + log,
                            *command], env=env, capture_output=True, check=True)
            with open(log) as f:
                total.append(int(next(l for l in f if l.startswith("summary:")).split()[1]))
            os.unlink(log)
        counts[name] = total[0] - total[1]
print("RESULT " + json.dumps({"times": out, "counts": counts}))
"""


def first_contexts(
    binaries: dict[str, Path], plain: Path, home: str, runs: int, work: Path, count: bool
) -> list[Row]:
    """The first TLS context of a run of the binary, per layout and mode (see --first)."""
    if not namespaces_available():
        return [("P2 first context skipped: needs root and unshare -m", 0.0, "-")]
    roots = Path(certifi.where()).read_bytes().split(b"-----END CERTIFICATE-----")[:140]
    bundle = b"".join(r + b"-----END CERTIFICATE-----" for r in roots) + b"\n"
    bundle += trustme.CA().cert_pem.bytes()
    safe_home = "/var/bench-home"
    runtime = {"XDG_RUNTIME_DIR": "/var/bench-run"}
    rows: list[Row] = []
    for layout, label in (
        ("rhel7", "RHEL 7"),
        ("no-store", "no store (certifi)"),
        ("fedora43-directory-hash", "Fedora 43 (directory-hash)"),
    ):

        def argv(binary: Path) -> list[str]:
            return [str(binary), "time", "context", "1", "-"]

        modes: dict[str, tuple[list[str], dict[str, str], str | None]] = {
            "bare": ([str(plain), "time", "bare", "1", "-"], clean_env(home), None)
        }
        for name, binary in binaries.items():
            modes[name] = (argv(binary), clean_env(safe_home, **runtime), None)
        ours = binaries["after"]
        modes["after miss"] = (
            argv(ours),
            clean_env(safe_home, **runtime),
            "/var/bench-run/pyoxidizer-ssl",
        )
        modes["after miss /dev/shm"] = (  # no XDG variable (a container): in memory
            argv(ours),
            clean_env(safe_home, XDG_CACHE_HOME=""),
            "/dev/shm/pyoxidizer-ssl-0",
        )
        modes["after miss on disk"] = (
            argv(ours),
            clean_env(safe_home),
            safe_home + "/.cache/pyoxidizer-ssl",
        )
        if not layout.startswith("fedora"):  # the verdict is kept at the first miss, on disk too
            modes["after 2nd miss on disk"] = (
                argv(ours),
                clean_env(safe_home),
                "republish:" + safe_home + "/.cache/pyoxidizer-ssl",
            )
        spec = json.dumps({"runs": runs, "modes": modes, "count": count})
        driver = [sys.executable, "-I", "-c", FIRST_DRIVER, spec]
        proc = run_in_layout(layout, driver, clean_env(home), work / layout, bundle, timeout=3600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        result = json.loads(proc.stdout.split("RESULT ", 1)[1])
        first = {name: statistics.median(values) for name, values in result["times"].items()}
        floor = first["bare"]
        for name, value in first.items():
            what = "bare first SSLContext (floor)" if name == "bare" else f"ours, {name}"
            extra = "1.00" if name == "bare" else f"bare + {value - floor:.2f} ms"
            rows.append((f"P2 binary {label} first context: {what}", value, extra))
        for name, value in result["counts"].items():
            base = result["counts"]["bare"]
            rows.append(
                (
                    f"P2 binary {label} first context: {name} (M instructions)",
                    value / 1e6,
                    f"bare + {(value - base) / 1e6:.2f} M",
                )
            )
    return rows


def build_baseline(checkout: Path, work: Path, home: str) -> Path:
    """The probe linked with ``checkout``'s pyoxidizer-ssl (its .venv's python builds it)."""
    from support import exe

    python = checkout / ".venv" / "bin" / "python"
    original = exe.pyoxidizer_ssl

    def with_baseline(*args: str, cwd: Path, env: dict[str, str], timeout: float = 600) -> Any:
        return subprocess.run(
            [str(python), "-m", "pyoxidizer_ssl", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    exe.pyoxidizer_ssl = with_baseline
    try:
        ours, _ = build_pair(work, home)
    finally:
        exe.pyoxidizer_ssl = original
    return ours


def sizes(ours: Path, plain: Path, work: Path) -> list[Row]:
    rows: list[Row] = []
    stripped = {}
    for name, binary in (("ours", ours), ("plain", plain)):
        copy = work / f"{name}.stripped"
        shutil.copyfile(binary, copy)
        subprocess.run(["strip", str(copy)], check=True)
        stripped[name] = copy.stat().st_size
    for label, a, b in (
        ("debug build", ours.stat().st_size, plain.stat().st_size),
        ("stripped", stripped["ours"], stripped["plain"]),
    ):
        rows.append((f"size {label}, without the shim (MB)", b / 1e6, "1.00"))
        rows.append((f"size {label}, with the shim (MB)", a / 1e6, f"+{(a - b) / 1024:.1f} KB"))
    return rows


def main() -> None:
    args = arguments(__doc__, 40, callgrind=True)
    if args.callgrind:
        with workspace() as (work, home):
            tree = build_startup(work, home, args.release)
            rows = callgrind(tree, home, min(args.runs, 5) if args.runs != 40 else 3)
        print_table(rows)
        return
    if args.first:
        with workspace() as (work, home):
            ours, plain = build_pair(work / "after", home, args.release)
            binaries = {"after": ours}
            if args.baseline is not None:
                before = build_baseline(args.baseline, work / "before", home)
                binaries = {"before": before, **binaries}
            rows = first_contexts(binaries, plain, home, args.runs, work / "p2", args.instructions)
        print_table(rows)
        return
    with workspace() as (work, home):
        start = time.monotonic()
        ours, plain = build_pair(work, home, args.release)
        print(f"linked both binaries in {time.monotonic() - start:.0f} s", file=sys.stderr)
        rows = p1_startup(ours, plain, home, args.runs)
        rows += p2_p3(ours, plain, home, args.runs, work / "p2")
        rows += sizes(ours, plain, work)
    print_table(rows)


if __name__ == "__main__":
    main()
