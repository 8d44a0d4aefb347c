"""The ``pyoxidizer-ssl`` command: render, doctor, build, init.

Errors go to stderr; a bad config or flag exits 2 with a message naming the value and the fix.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .config import TRUST_SOURCES, Config, ConfigError, load
from .render import DEFAULT_OUT, RUNTIME_PACKAGE, render

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
  pyoxidizer-ssl init                   set up the project in . and print what to add
  pyoxidizer-ssl build                  render, then pyoxidizer build (from the project)
  pyoxidizer-ssl build --distribution cpython.tar.zst exe    offline / air-gapped
  pyoxidizer-ssl render --extra-ca corp-root.pem --trust env,system

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
        default=Path("pyproject.toml"),
        metavar="PYPROJECT",
        help="pyproject.toml to read [tool.pyoxidizer-ssl] from (default: ./pyproject.toml, "
        "or PROJECT/pyproject.toml for build and init; a missing file means all defaults)",
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
        "--python-version",
        metavar="X.Y",
        help="the binary's Python version, for checks such as truststore's (default: 3.10)",
    )


def _config(args: argparse.Namespace) -> Config:
    overrides: dict[str, Any] = {
        "trust": args.trust,
        "extra_ca": args.extra_ca,
        "export_env": args.export_env,
        "python_version": args.python_version,
    }
    return load(args.config, overrides)


def _render(args: argparse.Namespace, out: Path) -> Path:
    """Render the config from ``args`` into ``out``; warnings go to stderr."""
    rendered = render(_config(args), out)
    for warning in rendered.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return rendered.package


def _cmd_render(args: argparse.Namespace) -> int:
    print(_render(args, args.out))
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import diagnose, format_report

    config = _config(args)
    report = diagnose(config, args.python)
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
    from .build import LOAD_LINE

    project: Path = args.project
    package = _render(args, project / DEFAULT_OUT)
    print(
        f"""wrote {project / DEFAULT_OUT}/pyoxidizer.bzl and {package}

Add to {project / "pyoxidizer.bzl"} (load() paths resolve against the working directory, so
run pyoxidizer from the project directory; build/ is generated, keep it out of git):

    {LOAD_LINE}

    def make_exe():
        dist = pyoxidizer_ssl_distribution(vars = VARS)
        config = dist.make_python_interpreter_config()
        config.run_module = "myapp"
        exe = pyoxidizer_ssl_executable(dist = dist, name = "myapp", config = config, vars = VARS)
        # ... add your app's resources to exe as before ...
        return exe

Then build with:  pyoxidizer-ssl build [--distribution ARCHIVE.tar.zst] [TARGET...]"""
    )
    return 0


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
        help="put pyoxidizer.bzl where the project can load() it and print the lines to add",
        description="Render into PROJECT/build/pyoxidizer-ssl (the .bzl and the bootstrap) and "
        "print the load() line and macro call to add to the project's pyoxidizer.bzl.",
    )
    p.add_argument(
        "--project", type=Path, default=Path("."), metavar="DIR", help="project (default: .)"
    )
    _add_config_flags(p)
    p.set_defaults(func=_cmd_init)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    args.extra = extra
    if args.command in ("build", "init") and args.config == Path("pyproject.toml"):
        args.config = args.project / "pyproject.toml"
    try:
        code: int = args.func(args)
    except (ConfigError, ValueError) as exc:
        print(f"pyoxidizer-ssl {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
