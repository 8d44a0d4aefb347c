"""What can go wrong in the build plugin, as types: the exit code follows the class, never the text.

pip's model (``cli/status_codes.py``, ``base_command.py``): the CLI maps exception classes to exit
codes, so a message can be reworded without changing what a script sees.

- ``UsageError`` (exit 2): a mistake in the config, a flag or the project the user pointed us at.
  Its message is the house format ``<command or option>: invalid <field> <repr(value)>; must be
  ...`` and says how to fix it. Raised by config validation, the ``extra_ca`` checks, the CLI's
  argument checks and ``build``'s checks of the project, the archive and the tools.
- ``CheckError`` (exit 3): doctor's check itself could not run (the interpreter failed).
- anything else (exit 70, EX_SOFTWARE): a bug in pyoxidizer-ssl, our own invariants included.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_NOTHING_DONE = 1  # doctor: nothing usable; init: no pyoxidizer.bzl and no --write
EXIT_USAGE = 2
EXIT_CHECK_FAILED = 3
EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h)


class UsageError(ValueError):
    """A mistake the user can fix (config, flag, project): exit 2; the message names the fix.

    A ValueError, so code that caught the ValueError these checks used to raise still does.
    """

    exit_code = EXIT_USAGE


# The name config.py, adopt.py and doctor.py have always raised; the same class.
ConfigError = UsageError


class CheckError(RuntimeError):
    """doctor's check could not run at all (not a finding about trust): exit 3."""

    exit_code = EXIT_CHECK_FAILED


def exit_code(exc: BaseException) -> int:
    """The exit code for an exception that reached the CLI: by its class, else internal (70)."""
    if isinstance(exc, (UsageError, CheckError)):
        return exc.exit_code
    return EXIT_INTERNAL
