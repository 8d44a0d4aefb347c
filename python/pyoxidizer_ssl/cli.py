"""The ``pyoxidizer-ssl`` command: render, doctor, build, init.

Errors go to stderr; a bad config or flag exits 2 with a message naming the value and the fix.
The exit code follows the exception's class (errors.py), never its message.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .config import TRUST_SOURCES, Config, load
from .errors import (
    EXIT_CHECK_FAILED,
    EXIT_INTERNAL,
    EXIT_NOTHING_DONE,
    EXIT_USAGE,
    CheckError,
    UsageError,
    exit_code,
)
from .render import DEFAULT_OUT, RUNTIME_PACKAGE, render

# Exit codes (errors.py): 0 success (doctor: usable trust found), 1 doctor found nothing usable
# or init had no pyoxidizer.bzl to edit and no --write, 2 a config or command-line mistake
# (UsageError), 3 doctor's check could not run (CheckError), 70 any other exception: a bug
# (EX_SOFTWARE); build exits with pyoxidizer's own code.
__all__ = [
    "EXIT_CHECK_FAILED",
    "EXIT_INTERNAL",
    "EXIT_NOTHING_DONE",
    "EXIT_USAGE",
    "build_parser",
    "config_path",
    "main",
]
TRACEBACK_VARIABLE = "PYOXIDIZER_SSL_TRACEBACK"

_DESCRIPTION = """\
Make a PyOxidizer binary verify TLS correctly on every host.

The binary's OpenSSL only looks in /etc/ssl/cert.pem and /etc/ssl/certs; on Fedora, RHEL,
openSUSE, NixOS, the BSDs and minimal containers those are missing and HTTPS fails. This tool
renders a small bootstrap package that, at the first TLS use, trusts (in order):
SSL_CERT_FILE/SSL_CERT_DIR exactly as set, the host's CA store wherever the distro keeps it,
then the embedded certifi bundle - plus any corporate CAs you embed with --extra-ca.

Settings come from [tool.pyoxidizer-ssl] in pyproject.toml; every flag below overrides its key.
"""

_EPILOG = """\
examples:
  pyoxidizer-ssl doctor                 what would my binary trust on this host, and why?
  pyoxidizer-ssl init                   print the edit that adopts it in ./pyoxidizer.bzl
  pyoxidizer-ssl init --write           ... and apply it (or write a starter config)
  pyoxidizer-ssl build                  render, then pyoxidizer build (from the project)
  pyoxidizer-ssl build --distribution cpython.tar.zst exe    offline / air-gapped
  pyoxidizer-ssl render --extra-ca corp-root.pem --trust env,system

exit codes: 0 ok (doctor: usable trust found), 1 doctor: nothing usable / init: no
pyoxidizer.bzl and no --write, 2 config or usage
error, 3 doctor's check could not run, 70 internal error; build exits with pyoxidizer's code

environment variables read by the binary:
  PYOXIDIZER_SSL_DEBUG=1    print every trust decision to stderr
  PYOXIDIZER_SSL_DISABLE=1  do nothing; OpenSSL's compiled-in defaults apply
"""


def _trust_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")] if text.strip() else []


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("config (each overrides its [tool.pyoxidizer-ssl] key)")
    group.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PYPROJECT",
        help="pyproject.toml to read [tool.pyoxidizer-ssl] from, used as given (default: "
        "./pyproject.toml, or PROJECT/pyproject.toml for build and init; a missing file means "
        "all defaults)",
    )
    group.add_argument(
        "--trust",
        type=_trust_list,
        metavar="LIST",
        help="comma-separated trust sources in order, from "
        + ", ".join(TRUST_SOURCES)
        + " (default: env,system,certifi)",
    )
    group.add_argument(
        "--extra-ca",
        action="append",
        metavar="FILE",
        help="PEM file of CA certificates to trust on top of whichever source wins; "
        "repeat for several (replaces the extra_ca key)",
    )
    group.add_argument(
        "--export-env",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="export the decision to child processes as SSL_CERT_FILE/SSL_CERT_DIR (default: off)",
    )
    group.add_argument(
        "--grpc",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="give grpc.ssl_channel_credentials() without roots the decision (default: on)",
    )
    group.add_argument(
        "--python-version",
        metavar="X.Y",
        help="the binary's Python version, for checks such as truststore's (default: 3.10)",
    )


def config_path(args: argparse.Namespace) -> Path:
    """The pyproject.toml a command reads: --config exactly as given, else its default.

    The default is PROJECT/pyproject.toml for the commands that take --project (build, init),
    ./pyproject.toml for the others. A file that does not exist means all defaults.
    """
    if args.config is not None:
        return Path(args.config)
    project: Path = getattr(args, "project", Path("."))
    return project / "pyproject.toml"


def _config(args: argparse.Namespace) -> Config:
    overrides: dict[str, Any] = {
        "trust": args.trust,
        "extra_ca": args.extra_ca,
        "export_env": args.export_env,
        "python_version": args.python_version,
        "grpc": args.grpc,
    }
    return load(config_path(args), overrides)


def _render(args: argparse.Namespace, out: Path) -> Path:
    """Render the config from ``args`` into ``out``; warnings go to stderr.

    A directory that cannot be written is the user's to fix (UsageError naming the flag that
    chose it), not a bug.
    """
    config = _config(args)
    try:
        rendered = render(config, out)
    except OSError as exc:
        flag = "--out" if args.command == "render" else "--project"
        raise UsageError(
            f"{flag}: invalid output directory {str(out)!r}; cannot write it "
            f"({exc.strerror or exc}); pass a directory you can write"
        ) from None
    for warning in rendered.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return rendered.package


def _cmd_render(args: argparse.Namespace) -> int:
    print(_render(args, args.out))
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import diagnose, format_report

    report = diagnose(_config(args), args.python)  # DoctorError is a CheckError: exit 3
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(format_report(report))
    return 0 if report["usable"] else 1


def _cmd_build(args: argparse.Namespace) -> int:
    from .build import build_vars, run_build

    values = build_vars(args.project, args.distribution)  # check the archive before rendering
    _render(args, args.project / DEFAULT_OUT)
    return run_build(
        args.project,
        values,
        args.targets,
        args.extra,
        system_rust=args.system_rust,
        cargo_target_dir=args.cargo_target_dir,
    )


def _cmd_init(args: argparse.Namespace) -> int:
    from . import adopt

    project: Path = args.project
    bzl = project / "pyoxidizer.bzl"
    if not project.is_dir():
        raise UsageError(
            f"--project: invalid project {str(project)!r}; no such directory; "
            "pass the directory of your PyOxidizer project"
        )
    if not bzl.is_file():
        text = adopt.starter(args.app or _guess_app(project))
        if not args.write:
            print(
                f"init: {project} has no pyoxidizer.bzl; `pyoxidizer-ssl init --write` "
                "creates this one (pass --app NAME for the package the executable runs):",
                file=sys.stderr,
            )
            print(text, end="")
            return EXIT_NOTHING_DONE
        package = _render(args, project / DEFAULT_OUT)
        bzl.write_text(text)
        print(f"wrote {bzl} and {package}; build with: pyoxidizer-ssl build")
        return 0
    before = bzl.read_text()
    adoption = adopt.adopt(before, str(bzl))
    package = _render(args, project / DEFAULT_OUT)
    if not adoption.changes:
        print(f"{bzl} already uses pyoxidizer-ssl; nothing to change (rendered {package})")
        return 0
    print(adopt.diff(before, adoption.text, "pyoxidizer.bzl"), end="")
    for change in adoption.changes:
        print(f"# {change}", file=sys.stderr)
    if args.write:
        bzl.write_text(adoption.text)
        print(f"init: applied the edit to {bzl}; rendered {package}", file=sys.stderr)
    else:
        print(
            f"init: rendered {package}; apply the edit with `pyoxidizer-ssl init --write` "
            "(or `git apply`); then build from the project with `pyoxidizer-ssl build`",
            file=sys.stderr,
        )
    return 0


def _guess_app(project: Path) -> str:
    """The project's one top-level package, else its directory name as a package name."""
    packages = sorted(
        p.name
        for p in project.iterdir()
        if (p / "__init__.py").is_file() and p.name not in ("build", "tests", "test")
    )
    if len(packages) == 1:
        return packages[0]
    name = re.sub(r"\W", "_", project.resolve().name).lower().lstrip("0123456789_")
    return name or "app"


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``pyoxidizer-ssl``."""
    parser = argparse.ArgumentParser(
        prog="pyoxidizer-ssl",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pyoxidizer-ssl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser(
        "render",
        help=f"render the {RUNTIME_PACKAGE} package for pyoxidizer.bzl to embed",
        description=f"Render templates/ into OUT/{RUNTIME_PACKAGE}, the stdlib-only package "
        "that pyoxidizer.bzl embeds. Same inputs, byte-identical output.",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"output directory (default: {DEFAULT_OUT})",
    )
    _add_config_flags(p)
    p.set_defaults(func=_cmd_render)

    p = commands.add_parser(
        "doctor",
        help="show what a binary would trust on this host, and why",
        description="Render the config privately, run install() in a fresh isolated "
        "interpreter with this host's environment, and print the decision and its trace. "
        "Exit 0 when a usable trust source was found, 1 otherwise. Needs no network.",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--python",
        metavar="EXE",
        help="interpreter to run the check in (default: this one)",
    )
    _add_config_flags(p)
    p.set_defaults(func=_cmd_doctor)

    p = commands.add_parser(
        "build",
        help="render, then run `pyoxidizer build` with the --var values the macros need",
        description="Render the bootstrap into PROJECT/build/pyoxidizer-ssl, then run the real "
        "`pyoxidizer build` from PROJECT with the --var values pyoxidizer.bzl's macros read. "
        "Exits with pyoxidizer's exit code. Arguments after -- go to pyoxidizer unchanged. "
        "An exe target is linked by cargo: use --system-rust for the Rust on PATH.",
        epilog="example: pyoxidizer-ssl build --system-rust --cargo-target-dir ~/.cache/oxt "
        "--distribution cpython-3.10.tar.zst install -- --release",
    )
    p.add_argument(
        "--project",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the PyOxidizer project directory (default: .)",
    )
    p.add_argument(
        "--distribution",
        type=Path,
        metavar="ARCHIVE",
        help="local python-build-standalone .tar.zst to build with, for offline builds "
        "(default: PyOxidizer's own, downloaded)",
    )
    p.add_argument(
        "--system-rust",
        action="store_true",
        help="link exe targets with the cargo and rustc on PATH (sets PYOXIDIZER_SYSTEM_RUST=1; "
        "without it pyoxidizer downloads its own Rust 1.66)",
    )
    p.add_argument(
        "--cargo-target-dir",
        type=Path,
        metavar="DIR",
        help="with --system-rust: keep compiled crates in DIR, shared by every later exe build "
        "(default: a fresh directory per build)",
    )
    p.add_argument("targets", nargs="*", metavar="TARGET", help="targets to build")
    _add_config_flags(p)
    p.set_defaults(func=_cmd_build)

    p = commands.add_parser(
        "init",
        help="adopt pyoxidizer-ssl in the project's pyoxidizer.bzl (prints the edit as a diff)",
        description="Render into PROJECT/build/pyoxidizer-ssl (the .bzl and the bootstrap) and "
        "print the edit that adopts it in PROJECT/pyoxidizer.bzl as a unified diff: a load() "
        "line, default_python_distribution(...) -> pyoxidizer_ssl_distribution(vars = VARS, "
        "...) with the same arguments, DIST.to_python_executable(...) -> "
        "pyoxidizer_ssl_executable(dist = DIST, ..., vars = VARS). --write applies it. With no "
        "pyoxidizer.bzl, prints a complete starter config (--write creates it; exit 1 without).",
    )
    p.add_argument(
        "--project", type=Path, default=Path("."), metavar="DIR", help="project (default: .)"
    )
    p.add_argument(
        "--write",
        action="store_true",
        help="apply the edit to pyoxidizer.bzl (or create the starter config)",
    )
    p.add_argument(
        "--app",
        metavar="NAME",
        help="for a starter config: the package the executable runs (default: the project's "
        "one package, else the directory's name)",
    )
    _add_config_flags(p)
    p.set_defaults(func=_cmd_init)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (see EXIT_* and the epilog)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    args.extra = extra
    try:
        code: int = args.func(args)
    except (UsageError, CheckError) as exc:
        print(f"pyoxidizer-ssl {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        print(
            f"pyoxidizer-ssl {args.command}: internal error: {type(exc).__name__}: {exc}; "
            "this is a bug in pyoxidizer-ssl, please report it "
            f"(set {TRACEBACK_VARIABLE}=1 to print where it happened)",
            file=sys.stderr,
        )
        if os.environ.get(TRACEBACK_VARIABLE) == "1":
            traceback.print_exception(type(exc), exc, exc.__traceback__)
        return exit_code(exc)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
