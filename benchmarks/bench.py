"""Speed of pyoxidizer-ssl against the alternatives: medians and ratios within one run.

    .venv/bin/python benchmarks/bench.py [--runs 30]

P1 start-up     interpreter start vs start + shim + install(), all on one CPython (3.10 when
                present); what the shim's run_command adds to the binary's (and what an app's
                own install() adds) is measured where the binary loads it: from packed
                resources through the real oxidized_importer (needs CPython 3.10), else only
                from files (slower, an upper bound).
P2 contexts     in each layout (RHEL 7: a bundle only, certifi's roots, and again with this
                host's own bundle, another Mozilla release; Fedora 43: a bundle and the hashed
                directory update-ca-trust writes; no store: certifi), each in fresh processes
                run in turn (interleaved): the first TLS context of a process and the median of
                later ones, for ssl.create_default_context() after install() (and after the
                --baseline checkout's install()), a bare SSLContext (the floor), stock with
                SSL_CERT_FILE naming the same bundle (what PyInstaller/cx_Freeze do) and
                truststore.inject_into_ssl(). --instructions also counts the first context in
                instructions (valgrind's callgrind: a process that makes it minus one that
                stops just before), and later contexts (10 more minus none, over 10).
P3 per request  a new connection with requests and urllib3 (fresh pool each time) after
                install() vs their default of loading a bundle file per connection.
P4 size         bytecode + source the bootstrap adds, against certifi's bundle.

--callgrind     instructions instead (valgrind --tool=callgrind, CPython 3.10 from files,
                median of --runs counts): the shim's run command with run_command=pass vs
                `pass`; and the import tax, 300 generated modules imported after install()
                vs without it, per import.

Absolute times vary between machines and runs; the ratios are the result. P2/P3 run inside
private mount namespaces (root) so that the binary's OpenSSL defaults are missing as on RHEL;
without root they run on this host as it is, and say so.
"""

from __future__ import annotations

import argparse
import compileall
import json
import marshal
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import certifi
import trustme

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "python")]

from pyoxidizer_ssl import config as config_mod  # noqa: E402
from pyoxidizer_ssl.render import render  # noqa: E402
from support.env import CERTIFI_PARENT, clean_env, python_for  # noqa: E402
from support.layouts import namespaces_available, run_in_layout  # noqa: E402
from support.tls import https_server  # noqa: E402

# Runs in a fresh interpreter: times one thing N times, prints a JSON line of milliseconds.
CHILD = r"""
import json, os, ssl, statistics, sys, time
mode, runs, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path[:0] = json.loads(sys.argv[4])
first = None

def timed(fn):
    t = time.perf_counter_ns(); fn(); return (time.perf_counter_ns() - t) / 1e6

if mode.startswith("ours"):
    import pyoxidizer_ssl_bootstrap
    pyoxidizer_ssl_bootstrap.install()
if mode.startswith("truststore"):
    import truststore
    truststore.inject_into_ssl()
kind = mode.split(":")[1]
if kind == "context":
    make = ssl.create_default_context
elif kind == "bare":
    make = lambda: ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
elif kind == "requests":
    import requests
    verify = os.environ.get("BENCH_BUNDLE") or True
    def make():
        with requests.Session() as s:
            assert s.get(url, verify=verify, timeout=10).status_code == 200
elif kind == "urllib3":
    import urllib3
    bundle = os.environ.get("BENCH_BUNDLE")
    def make():
        pool = urllib3.PoolManager(ca_certs=bundle) if bundle else urllib3.PoolManager()
        assert pool.request("GET", url, retries=False).status == 200
        pool.clear()
first = timed(make)
times = [timed(make) for _ in range(runs)]
print("RESULT " + json.dumps({"first": first, "median": statistics.median(times)}))
"""

# Timed in the embedded interpreter, after the app's package is imported (the importer's own
# first-use cost is paid by whatever loads first, with or without us): the run_command the binary
# compiles and runs, with ours and without. "shim" is what a wrapped binary runs at every start
# (pyoxidizer.bzl's run_command; the app's own target, here `pass`, moves to an -X option);
# "install" is an app calling install() itself, which also builds the Report.
_SHIM = re.search(
    r'^PYOXIDIZER_SSL_RUN_COMMAND = "(.*)"$', (ROOT / "pyoxidizer.bzl").read_text(), re.M
)
assert _SHIM, "pyoxidizer.bzl defines no PYOXIDIZER_SSL_RUN_COMMAND"
SHIM_COMMAND = _SHIM[1].replace("\\n", "\n")  # the Starlark string's only escape
# exec() of the string, as the binary's Py_RunMain runs a run_command: never compile(), whose
# first call in a process builds the ast module's types (+9 M instructions on 3.10). Timing
# through compile() would pay that in the bare run too and hide it in any shim that does.
TIMED = """\
import time, benchapp
t = time.perf_counter_ns()
exec({command!r}, {{}})
print("RESULT %f" % ((time.perf_counter_ns() - t) / 1e6))
"""
RUN_COMMANDS = {
    "bare": ("pass", []),
    "shim": (SHIM_COMMAND, ["pyoxidizer_ssl.run_command=pass"]),
    "install": ("__import__('pyoxidizer_ssl_bootstrap').install()", []),
}


def _median_wall(argv: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter_ns()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        times.append((time.perf_counter_ns() - t) / 1e6)
    return statistics.median(times)


def _result(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith("RESULT ")).split(" ", 1)[1]


def p1_startup(boot: Path, home: str, runs: int, work: Path) -> list[tuple[str, float, str]]:
    env = clean_env(home)
    # One interpreter for every P1 row: CPython 3.10, which the in-memory measure needs (the
    # oxidized_importer wheel is cp310), else this one. 3.11+ starts ~15% faster.
    python = python_for("3.10") or sys.executable
    version = subprocess.run(
        [python, "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    base = [python, "-I", "-S", "-c"]
    rows = []
    bare = _median_wall([*base, "pass"], env, runs)
    rows.append((f"P1 bare interpreter start (CPython {version} -I -S)", bare, "1.00"))
    measured = _in_memory_install_cost(home, runs, work)
    if measured is None:
        # No CPython 3.10 for oxidized_importer: an upper bound through the path-based importer,
        # which a PyOxidizer binary never uses (it also pays for scanning sys.path).
        with_shim = _median_wall(
            [
                *base,
                f"import sys; sys.path.insert(0, {str(boot)!r}); "
                "__import__('pyoxidizer_ssl_bootstrap').install()",
            ],
            env,
            runs,
        )
        ratio = f"{with_shim / bare:.3f}"
        return [*rows, ("P1 start + install(), read from files (upper bound)", with_shim, ratio)]
    shim, install, embedded_bare = measured
    rows.append(
        ("P1 embedded interpreter start, no shim (oxidized_importer)", embedded_bare, "1.00")
    )
    for name, cost in (
        ("P1 added by the shim (run_command), from packed resources", shim),
        ("P1 added by an app's own install() (+ Report)", install),
    ):
        share = f"+{100 * cost / embedded_bare:.2f}% of embedded start, "
        rows.append((name, cost, share + f"+{100 * cost / bare:.2f}% of bare start"))
    return rows


def _in_memory_install_cost(home: str, runs: int, work: Path) -> tuple[float, float, float] | None:
    """What the shim's run_command and an app's own install() add to the binary's run_command
    (medians, from a real pyoxidizer build), and the median start of the same embedded
    interpreter running nothing; None without CPython 3.10."""
    python = python_for("3.10")
    if python is None:
        return None
    from support.distribution import assemble
    from support.oxidized import embedded_command, oxidized_python, pyoxidizer_build

    dist = assemble(python, work / "dist")
    project = work / "project"
    (project / "benchapp").mkdir(parents=True)
    (project / "benchapp" / "__init__.py").write_text("")
    (project / "pyoxidizer.bzl").write_text(
        'load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_add_resources", '
        '"pyoxidizer_ssl_distribution")\n'
        "def make_exe():\n"
        "    dist = pyoxidizer_ssl_distribution(vars = VARS)\n"
        "    config = dist.make_python_interpreter_config()\n"
        '    config.run_module = "benchapp"\n'
        '    exe = dist.to_python_executable(name = "bench", config = config)\n'
        "    pyoxidizer_ssl_add_resources(exe, VARS)\n"
        '    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["benchapp"]))\n'
        "    return exe\n"
        "def make_resources(exe):\n    return exe.to_embedded_resources()\n"
        'register_target("exe", make_exe)\n'
        'register_target("resources", make_resources, depends = ["exe"], default = True)\n'
        "resolve_targets()\n"
    )
    proc, built = pyoxidizer_build(project, dist.archive, home)
    if built is None:
        print(proc.stderr[-2000:], file=sys.stderr)
        return None
    # P4: the same project without pyoxidizer-ssl; the packed blobs' difference is our cost.
    plain = work / "plain"
    shutil.copytree(project, plain, ignore=shutil.ignore_patterns("build"))
    bzl = plain / "pyoxidizer.bzl"
    bzl.write_text(bzl.read_text().replace("    pyoxidizer_ssl_add_resources(exe, VARS)\n", ""))
    _, plain_built = pyoxidizer_build(plain, dist.archive, home)
    if plain_built is not None:
        PACKED["with"] = built.resources.stat().st_size
        PACKED["without"] = plain_built.resources.stat().st_size
    oxi_python, oxidized = oxidized_python(work / "cache")
    argvs = {}
    for name, (command, x_options) in RUN_COMMANDS.items():
        argvs[name] = embedded_command(oxi_python, oxidized, built, work / name)
        config = {
            "run_command": TIMED.format(command=command),
            "run_module": None,
            "x_options": x_options,
        }
        (work / name / "interpreter.json").write_text(json.dumps(config))
    bare = embedded_command(oxi_python, oxidized, built, work / "bare-start")
    (work / "bare-start" / "interpreter.json").write_text(
        json.dumps({"run_command": "pass", "run_module": None, "x_options": []})
    )
    times: dict[str, list[float]] = {name: [] for name in argvs}
    for _ in range(runs):  # interleaved, so that drift hits all alike
        for name, argv in argvs.items():
            out = subprocess.run(
                argv, env=clean_env(home), capture_output=True, text=True, check=True
            )
            times[name].append(float(_result(out.stdout)))
    medians = {name: statistics.median(values) for name, values in times.items()}
    return (
        medians["shim"] - medians["bare"],
        medians["install"] - medians["bare"],
        _median_wall(bare, clean_env(home), runs),
    )


def _child(
    layout: str | None,
    mode: str,
    runs: int,
    url: str,
    boot: Path,
    home: str,
    bundle: bytes,
    work: Path,
    **env: str,
) -> dict[str, float]:
    argv = [
        sys.executable,
        "-I",
        "-c",
        CHILD,
        mode,
        str(runs),
        url,
        json.dumps([str(boot), CERTIFI_PARENT]),
    ]
    environment = clean_env(home, **env)
    if layout is None:
        proc = subprocess.run(argv, env=environment, capture_output=True, text=True, check=False)
    else:
        proc = run_in_layout(layout, argv, environment, work, bundle)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} in {layout}: {proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(_result(proc.stdout))
    return result


# Runs in a fresh interpreter inside a layout: one process's first TLS context and later ones.
# argv: mode, number of later contexts, boot directory (or "-"), sys.path entries as JSON, and
# "stop" to return just before the first context (for instruction counts).
FIRST = r"""
import json, os, shutil, ssl, statistics, sys, time
mode, later, boot, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
sys.path[:0] = paths
clear = os.environ.pop("BENCH_CLEAR", None)  # a cache miss: this run finds no entry
if clear and clear.startswith("republish:"):  # its entries gone, their keys seen: publish now
    clear = clear.split(":", 1)[1]
    for name in os.listdir(clear) if os.path.isdir(clear) else []:
        if name.startswith("e-"):
            shutil.rmtree(os.path.join(clear, name))
            open(os.path.join(clear, "s-" + name[2:]), "w").close()
elif clear:
    shutil.rmtree(clear, ignore_errors=True)
if boot != "-":
    sys.path.insert(0, boot)
    import pyoxidizer_ssl_bootstrap
    pyoxidizer_ssl_bootstrap.install()
if mode == "truststore":
    import truststore
    truststore.inject_into_ssl()
if mode == "bare":
    make = lambda: ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
else:
    make = ssl.create_default_context
if sys.argv[5:] == ["stop"]:
    raise SystemExit(0)
t = time.perf_counter_ns(); make(); first = (time.perf_counter_ns() - t) / 1e6
times = []
for _ in range(later):
    t = time.perf_counter_ns(); make(); times.append((time.perf_counter_ns() - t) / 1e6)
print(json.dumps({"first": first, "later": statistics.median(times) if times else 0.0}))
"""

# Runs inside the layout (one namespace per layout): the modes' processes in turn, N rounds.
# First a HOME only root can write (the cache refuses one others could) and a tmpfs 0700 as
# XDG_RUNTIME_DIR (what logind makes /run/user/UID), for the between-runs cache.
DRIVER = r"""
import json, os, subprocess, sys, time
spec = json.loads(sys.argv[1])
os.makedirs(BENCH_HOME + "/.cache", mode=0o700, exist_ok=True)  # XDG_CACHE_HOME (clean_env)
os.chmod(BENCH_HOME, 0o700)
os.makedirs(BENCH_RUNTIME, exist_ok=True)
subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=700", "tmpfs", BENCH_RUNTIME], check=True)
# The layout was written moments ago: what a run reads settles first, as a host's store has
# (a file changed in the last 3 s is never remembered between runs: _cache, _verdicts RACY_NS).
time.sleep(3.2)
out = {name: [] for name in spec["modes"]}
for _ in range(spec["runs"]):
    for name, (argv, env) in spec["modes"].items():
        proc = subprocess.run(argv, env=env, capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(name + ": " + proc.stderr[-2000:])
        out[name].append(json.loads(proc.stdout.splitlines()[-1]))
def instructions(command, env):  # what callgrind counts for one run of command
    log = "/tmp/callgrind.out.bench.%d" % os.getpid()
    counter = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + log]
    subprocess.run([*counter, *command], env=env, capture_output=True, check=True)
    with open(log) as f:
        total = int(next(l for l in f if l.startswith("summary:")).split()[1])
    os.unlink(log)
    return total
counts = {}
for name, (argv, env) in spec["counted"].items():
    counts[name] = instructions(argv, env) - instructions([*argv, "stop"], env)
per = {}  # instructions per later context: N later contexts minus none, over N
for name, (argv, env) in spec["per"].items():
    # A run first, uncounted: the counts above left the cache empty ("after miss" clears it),
    # so the first counted run would be a miss, not a hit like the second.
    subprocess.run([*argv[:5], "0", *argv[6:]], env=env, capture_output=True, check=True)
    more = instructions([*argv[:5], spec["later"], *argv[6:]], env)
    per[name] = (more - instructions([*argv[:5], "0", *argv[6:]], env)) / int(spec["later"])
print("RESULT " + json.dumps({"times": out, "counts": counts, "per": per}))
"""
PER_LATER = "10"  # later contexts counted per process for the per-context instructions
BENCH_HOME = "/var/bench-home"  # /var is an overlay inside the layouts: nothing stays
BENCH_RUNTIME = "/var/bench-run"
DRIVER = DRIVER.replace("BENCH_HOME", repr(BENCH_HOME)).replace(
    "BENCH_RUNTIME", repr(BENCH_RUNTIME)
)

# A distro's own bundle, another Mozilla release than certifi's (Debian 12's here: 144 roots, 92
# of them written as certifi writes them), in the RHEL 7 layout: where only some roots are
# named by the build's hashes and the rest are hashed at run time (#20.4).
HOST_STORE = Path("/etc/ssl/certs/ca-certificates.crt")
P2_LAYOUTS = (
    ("rhel7", "RHEL 7 (bundle only)", "bundle"),
    ("rhel7", "RHEL 7, this host's roots", "host"),
    ("fedora43-directory-hash", "Fedora 43 (directory-hash)", "bundle"),
    ("no-store", "no store (certifi)", "certifi"),
)


def p2_contexts(
    boots: dict[str, Path], home: str, runs: int, work: Path, instructions: bool
) -> list[tuple[str, float, str]]:
    """First and later contexts per layout, interleaved in one namespace per layout."""
    work.mkdir(parents=True, exist_ok=True)
    python = python_for("3.10") or sys.executable
    ca = trustme.CA()
    certifi_pem = Path(certifi.where()).read_bytes()
    bundle = certifi_pem + ca.cert_pem.bytes()  # a full distro bundle holding the test CA
    files = {"bundle": work / "bundle.pem", "certifi": work / "certifi.pem"}
    files["bundle"].write_bytes(bundle)
    files["certifi"].write_bytes(certifi_pem)
    texts = {"bundle": bundle, "certifi": bundle}  # what each layout's store holds
    if HOST_STORE.is_file():
        texts["host"] = HOST_STORE.read_bytes() + ca.cert_pem.bytes()
        files["host"] = work / "host.pem"
        files["host"].write_bytes(texts["host"])
    paths = json.dumps([CERTIFI_PARENT])
    later = "30"
    rows: list[tuple[str, float, str]] = []
    layouts = namespaces_available()
    for layout, label, file in P2_LAYOUTS:
        if file not in files:
            continue  # no distro bundle on this host
        env = clean_env(home)

        def argv(mode: str, boot: str = "-") -> list[str]:
            return [python, "-I", "-c", FIRST, mode, later, boot, paths]

        modes = {"bare": (argv("bare"), env)}
        # The cache (#20.4): "after" finds its entry (every run but the very first: a hit);
        # "after miss" finds none (in memory, XDG_RUNTIME_DIR), "after miss on disk" none in
        # ~/.cache (the key's first miss there: a marker only), "after 2nd miss on disk" none
        # but its marker (publishes). Without namespaces (not root) HOME stays the temporary one,
        # which the cache refuses: every mode then measures the private directory.
        home_env = clean_env(BENCH_HOME) if layouts else env
        run_env = clean_env(BENCH_HOME, XDG_RUNTIME_DIR=BENCH_RUNTIME) if layouts else env
        clear = BENCH_RUNTIME + "/pyoxidizer-ssl"
        for name, boot in boots.items():
            modes[name] = (argv("context", str(boot)), run_env)
            if layouts:  # the baseline's miss too: the split, before and after
                modes[f"{name} miss"] = (
                    argv("context", str(boot)),
                    {**run_env, "BENCH_CLEAR": clear},
                )
            if name == "after" and layouts:
                # No XDG variable (a container): our own directory in the namespace's /dev/shm.
                modes["after miss /dev/shm"] = (
                    argv("context", str(boot)),
                    {**home_env, "XDG_CACHE_HOME": "", "BENCH_CLEAR": "/dev/shm/pyoxidizer-ssl-0"},
                )
                on_disk = BENCH_HOME + "/.cache/pyoxidizer-ssl"
                modes["after miss on disk"] = (
                    argv("context", str(boot)),
                    {**home_env, "BENCH_CLEAR": on_disk},
                )
                modes["after 2nd miss on disk"] = (
                    argv("context", str(boot)),
                    {**home_env, "BENCH_CLEAR": "republish:" + on_disk},
                )
        modes["SSL_CERT_FILE"] = (
            argv("context"),
            clean_env(home, SSL_CERT_FILE=str(files[file])),
        )
        modes["truststore"] = (argv("truststore"), env)
        # Counted alone: no later contexts in the process. Hits first: a miss empties the cache
        # in both of its counted runs, so a hit counted after one would be a miss.
        counted = {
            name: ([*modes[name][0][:5], "0", *modes[name][0][6:]], modes[name][1])
            for name in sorted(modes, key=lambda mode: "miss" in mode)
            if instructions
            and name in ("bare", *boots, "before miss", "after miss", "after miss /dev/shm")
        }
        # Per later context (#20.5): N later contexts minus none, in one process each.
        per = {
            name: modes[name]
            for name in ("bare", *boots, "SSL_CERT_FILE")
            if instructions and name in modes
        }
        spec = json.dumps(
            {"runs": runs, "modes": modes, "counted": counted, "per": per, "later": PER_LATER}
        )
        driver = [sys.executable, "-I", "-c", DRIVER, spec]
        if layouts:
            where_run = work / f"{layout}-{file}"
            proc = run_in_layout(layout, driver, env, where_run, texts[file], timeout=3600)
        else:
            proc = subprocess.run(driver, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"P2 in {layout}: {proc.stderr[-2000:]}")
        result = json.loads(_result(proc.stdout))
        first = {n: statistics.median(r["first"] for r in v) for n, v in result["times"].items()}
        each = {n: statistics.median(r["later"] for r in v) for n, v in result["times"].items()}
        where = label if layouts else label + " (this host's layout: no namespaces)"
        ours = each["after"]
        rows.append(
            (
                f"P2 {where}: bare SSLContext per context (floor)",
                each["bare"],
                f"{each['bare'] / ours:.2f}",
            )
        )
        cached = [
            n
            for n in (
                "before miss",
                "after miss",
                "after miss /dev/shm",
                "after miss on disk",
                "after 2nd miss on disk",
            )
            if n in each
        ]
        for name in [*boots, *cached]:
            rows.append(
                (f"P2 {where}: ours per context, {name}", each[name], f"{each[name] / ours:.2f}")
            )
        for name in ("SSL_CERT_FILE", "truststore"):
            rows.append(
                (f"P2 {where}: {name} per context", each[name], f"{each[name] / ours:.1f}x slower")
            )
        rows.append((f"P2 {where}: bare first context (floor)", first["bare"], "1.00"))
        for name in [*boots, *cached]:
            added = first[name] - first["bare"]
            rows.append(
                (
                    f"P2 {where}: ours first context, {name}",
                    first[name],
                    f"{first[name] / first['bare']:.2f} (bare + {added:.2f} ms)",
                )
            )
        rows.append(
            (
                f"P2 {where}: SSL_CERT_FILE first context",
                first["SSL_CERT_FILE"],
                f"{first['SSL_CERT_FILE'] / first['bare']:.2f}",
            )
        )
        for name, count in result["per"].items():
            rows.append(
                (
                    f"P2 {where}: per later context, {name} (M instructions)",
                    count / 1e6,
                    f"{count / max(result['per']['after'], 1):.2f}",
                )
            )
        for name, count in sorted(result["counts"].items()):
            rows.append(
                (
                    f"P2 {where}: first context, {name} (M instructions)",
                    count / 1e6,
                    f"{count / max(result['counts']['bare'], 1):.2f}",
                )
            )
    return rows


def p3_requests(boot: Path, home: str, runs: int, work: Path) -> list[tuple[str, float, str]]:
    work.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    bundle = Path(certifi.where()).read_bytes() + ca.cert_pem.bytes()
    bundle_file = work / "bundle.pem"
    bundle_file.write_bytes(bundle)
    layouts = namespaces_available()
    rows = []
    counter = iter(range(10_000))

    def run(layout: str, mode: str, url: str = "-", **env: str) -> dict[str, float]:
        return _child(
            layout if layouts else None,
            mode,
            runs,
            url,
            boot,
            home,
            bundle,
            work / f"ns{next(counter)}",
            **env,
        )

    with https_server(ca) as url:
        for client in ("requests", "urllib3"):
            ours = run("rhel7", f"ours:{client}", url)["median"]
            slow = run("rhel7", f"plain:{client}", url, BENCH_BUNDLE=str(bundle_file))["median"]
            rows += [
                (f"P3 {client} new connection: ours", ours, "1.00"),
                (
                    f"P3 {client} new connection: bundle file per connection",
                    slow,
                    f"{slow / ours:.1f}x slower",
                ),
            ]
    return rows


PACKED: dict[str, int] = {}


def p4_size(boot: Path) -> list[tuple[str, float, str]]:
    bundle = Path(certifi.where()).stat().st_size
    if PACKED:
        added = PACKED["with"] - PACKED["without"]
        return [
            ("P4 certifi bundle (KB)", bundle / 1024, "1.00"),
            (
                "P4 packed resources added: bootstrap + certifi (KB)",
                added / 1024,
                f"bundle + {(added - bundle) / 1024:.1f} KB",
            ),
        ]
    package = boot / "pyoxidizer_ssl_bootstrap"
    source = sum(len(p.read_bytes()) for p in package.glob("*.py"))
    bytecode = sum(
        len(marshal.dumps(compile(p.read_bytes(), p.name, "exec"))) for p in package.glob("*.py")
    )
    return [
        ("P4 certifi bundle (KB)", bundle / 1024, "1.00"),
        ("P4 bootstrap bytecode, estimated (KB)", bytecode / 1024, f"{bytecode / bundle:.3f}"),
        ("P4 bootstrap source (KB, droppable)", source / 1024, f"{source / bundle:.3f}"),
    ]


def arguments(doc: str | None, runs: int, callgrind: bool = False) -> argparse.Namespace:
    """The command line both benchmark scripts take: --runs (and bench_exe.py's --callgrind)."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=runs, help=f"runs per median (default {runs})")
    if doc == __doc__:
        parser.add_argument(
            "--baseline",
            type=Path,
            help="another checkout of pyoxidizer-ssl whose bootstrap P2 also measures (before)",
        )
        parser.add_argument(
            "--instructions",
            action="store_true",
            help="P2: count first and later contexts (callgrind)",
        )
        parser.add_argument("--only", choices=("P1", "P2", "P3", "P4"), action="append")
    if callgrind:
        parser.add_argument(
            "--callgrind",
            action="store_true",
            help="count start-up and import instructions with valgrind instead of timing",
        )
    if callgrind and doc != __doc__:  # bench_exe.py
        parser.add_argument(
            "--first",
            action="store_true",
            help="only the first TLS context of a run: cache hit and miss (#20.4)",
        )
        parser.add_argument(
            "--baseline",
            type=Path,
            help="with --first: another checkout (with its .venv) whose binary is measured too",
        )
        parser.add_argument(
            "--instructions", action="store_true", help="with --first: count in instructions"
        )
        parser.add_argument(
            "--release",
            action="store_true",
            help="link release binaries, as users ship (pyoxidizer build --release); default debug",
        )
    return parser.parse_args()


def print_table(rows: list[tuple[str, float, str]]) -> None:
    """Print measure, median and ratio columns (sizes and "(M instr)" counts have no unit)."""
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'median':>10}  ratio")
    for name, value, ratio in rows:
        unit = "" if "(KB" in name or "(MB" in name or "(M " in name else " ms"
        print(f"{name:<{width}}  {value:>7.3f}{unit:<3}  {ratio}")


@contextmanager
def workspace() -> Iterator[tuple[Path, str]]:
    """A scratch directory and an empty HOME inside it, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="pyoxidizer-ssl-bench-") as tmp:
        work = Path(tmp)
        (work / "home").mkdir()
        yield work, str(work / "home")


def _render_baseline(checkout: Path, out: Path) -> Path:
    """Render the default bootstrap with another checkout's own code (compiled, as a binary's)."""
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1] + '/python'); "
        "from pyoxidizer_ssl import config; from pyoxidizer_ssl.render import render; "
        "render(config.validate({}, Path(sys.argv[2])), Path(sys.argv[2]))"
    )
    subprocess.run([sys.executable, "-I", "-c", code, str(checkout), str(out)], check=True)
    compileall.compile_dir(str(out), quiet=1)
    return out


def _count(argv: list[str], runs: int) -> float:
    """Median instructions (millions) of ``argv`` under callgrind."""
    counts = []
    for _ in range(runs):
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
            capture_output=True,
            text=True,
            check=True,
        )
        counts.append(int(proc.stderr.split("Collected :")[1].split()[0]) / 1e6)
    return statistics.median(counts)


def callgrind_cpython(boot: Path, work: Path, runs: int) -> list[tuple[str, float, str]]:
    """The run command and the import tax on CPython, in millions of instructions."""
    python = python_for("3.10") or sys.executable
    many = 300
    mods = work / "mods"
    (mods / "app").mkdir(parents=True)
    (mods / "app" / "__init__.py").write_text("")
    for i in range(many):
        (mods / "app" / f"m{i}.py").write_text(f"VALUE = {i}\n")
    (mods / "imp300.py").write_text("".join(f"import app.m{i}\n" for i in range(many)))
    compileall.compile_dir(str(mods), quiet=1)
    head = f"import sys; sys.path[:0] = [{str(mods)!r}, {str(boot)!r}]\n"
    ours = "__import__('pyoxidizer_ssl_bootstrap').install()\n"
    base = [python, "-I", "-S", "-X", "pyoxidizer_ssl.run_command=pass", "-c"]
    rows: list[tuple[str, float, str]] = []
    bare = _count([*base, head + "exec('pass', {})"], runs)
    shim = _count([*base, head + f"exec({SHIM_COMMAND!r}, {{}})"], runs)
    rows.append(("CPython run command `pass` (M instr)", bare, "1.00"))
    rows.append(
        ("CPython shim's run command, run_command=pass (M instr)", shim, f"+{shim - bare:.3f} M")
    )
    cost = {}
    for name, setup in (("stock", ""), ("ours", ours)):
        with_imports = _count([*base, head + setup + "import imp300\n"], runs)
        without = _count([*base, head + setup], runs)
        cost[name] = with_imports - without
    per = (cost["ours"] - cost["stock"]) * 1e6 / (many + 2)  # + app and imp300
    rows.append((f"CPython {many} imports from files, stock (M instr)", cost["stock"], "1.00"))
    rows.append(
        (
            f"CPython {many} imports after install() (M instr)",
            cost["ours"],
            f"{per / 1000:+.2f} K instructions per import",
        )
    )
    return rows


def main() -> None:
    args = arguments(__doc__, 30, callgrind=True)
    if args.callgrind:
        with workspace() as (work, home):
            render(config_mod.validate({}, work), work / "boot")
            compileall.compile_dir(str(work / "boot"), quiet=1)
            rows = callgrind_cpython(work / "boot", work, 3 if args.runs == 30 else args.runs)
        print_table(rows)
        return
    with workspace() as (work, home):
        render(config_mod.validate({}, work), work / "boot")
        boot = work / "boot"
        # A binary carries bytecode; do not time the first import's compilation.
        compileall.compile_dir(str(boot), quiet=1)
        boots = {"after": boot}
        if args.baseline is not None:
            boots = {"before": _render_baseline(args.baseline, work / "before"), **boots}
        only = set(args.only or ("P1", "P2", "P3", "P4"))
        rows = p1_startup(boot, home, args.runs, work / "p1") if "P1" in only else []
        if "P2" in only:
            rows += p2_contexts(boots, home, args.runs, work / "p2", args.instructions)
        if "P3" in only:
            rows += p3_requests(boot, home, args.runs, work / "p3")
        if "P4" in only:
            rows += p4_size(boot)
    print_table(rows)


if __name__ == "__main__":
    main()
