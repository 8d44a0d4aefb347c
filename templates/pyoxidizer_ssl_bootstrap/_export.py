"""export_env: point SSL_CERT_FILE/SSL_CERT_DIR of child processes at the decision.

Loaded only with ``export_env = true``, at start-up (the decision is then made there). Only
paths nobody else can claim are exported: the system store's own, or a private directory whose
every parent only we and root can write (it lasts while this process runs; after that a child's
TLS fails closed, since no one else can create that name). A variable already set is never
overridden.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from typing import Callable

    from . import _sources
    from ._plan import Plan

    Note = Callable[[str, str], None]


def export_env(
    decision: _sources.Decision, plan: Callable[[], Plan], note: Note, exported: dict[str, str]
) -> None:
    """Set SSL_CERT_FILE/SSL_CERT_DIR for children where the decision allows; trace each step.

    ``plan`` returns the current plan (its private directory); what is set is recorded in
    ``exported``, so that reading the variables back does not take them for the user's own.
    """
    from . import _data

    if decision.source in (None, "env", "truststore") or decision.native:
        note("export.nothing", f"export_env: nothing to export for source {decision.source!r}")
        return
    real_files = [path for path, _ in decision.files if path]
    values: dict[str, str] = {}
    if not _data.EXTRA_CA and len(real_files) == len(decision.files) <= 1:
        values = {"SSL_CERT_FILE": real_files[0]} if real_files else {}
        if decision.dirs:
            values["SSL_CERT_DIR"] = os.pathsep.join(decision.dirs)
    else:
        private = plan().private
        if private is None or not private.exportable():
            where = "no private directory" if private is None else repr(private.real_path)
            note(
                "export.refused",
                f"export_env: not exported: {where} lies where other users could claim "
                "its name once this process exits; children keep their own trust",
            )
            return
        values = {"SSL_CERT_DIR": private.real_path}
    for name, value in sorted(values.items()):
        if os.environ.get(name) is not None:
            note("export.already_set", f"export_env: {name} is already set; left as it is")
            continue
        os.environ[name] = value
        exported[name] = value
        note("export.set", f"export_env: {name}={value} for child processes")
