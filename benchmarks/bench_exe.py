"""P1-P3 and size on the real binary: the probe app linked with the shim and without it.

    .venv/bin/python benchmarks/bench_exe.py [--runs 40]

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


def build_pair(work: Path, home: str) -> tuple[Path, Path]:
    """Link the probe with and without the shim; return (ours, plain)."""
    python = python_for("3.10")
    assert python is not None, "needs a local CPython 3.10 (pyenv install 3.10)"
    dist = cached(python, CACHE / "distributions", linkable=True)
    rust = find_rust(CACHE / "cargo-target")
    project = work / "probe"
    shutil.copytree(PROBE, project, ignore=shutil.ignore_patterns("build", "__pycache__"))
    tree = build_tree(project, dist, rust, home, "pair")
    return tree / "run_module" / "probe-run_module", tree / "plain" / "probe-plain"


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
    args = arguments(__doc__, 40)
    with workspace() as (work, home):
        start = time.monotonic()
        ours, plain = build_pair(work, home)
        print(f"linked both binaries in {time.monotonic() - start:.0f} s", file=sys.stderr)
        rows = p1_startup(ours, plain, home, args.runs)
        rows += p2_p3(ours, plain, home, args.runs, work / "p2")
        rows += sizes(ours, plain, work)
    print_table(rows)


if __name__ == "__main__":
    main()
