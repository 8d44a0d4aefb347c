"""The one ownership predicate and its named policies, table-tested on synthetic stat results.

"May a user other than us and root change this entry?" differs on purpose for the parent of
the private directory, a chain exported to children, a store we read, and what we made for
ourselves; each row is one case a "harmonised" rule would get wrong for one of them.
"""

from __future__ import annotations

import os
import stat

import pytest

US = os.geteuid()
OTHER = 65534 if US != 65534 else 65533
DIR, LINK, FILE = stat.S_IFDIR, stat.S_IFLNK, stat.S_IFREG


def _info(kind: int, mode: int, uid: int) -> os.stat_result:
    return os.stat_result((kind | mode, 1, 1, 1, uid, uid, 0, 0, 0, 0))


# (policy, kind, mode, owner, why or None)
TABLE = [
    # The temp parent: root's or ours; others may write only with the sticky bit.
    ("TEMP_PARENT", DIR, 0o1777, 0, None),
    ("TEMP_PARENT", DIR, 0o777, 0, "writable by other users without the sticky bit"),
    ("TEMP_PARENT", DIR, 0o770, US, "writable by other users without the sticky bit"),
    ("TEMP_PARENT", DIR, 0o700, US, None),
    ("TEMP_PARENT", DIR, 0o755, OTHER, f"owned by uid {OTHER}, neither us nor root"),
    ("TEMP_PARENT", LINK, 0o777, 0, "a symbolic link"),
    # An exported chain: sticky does not help (the name could be taken after we exit); no links.
    ("EXPORTED", DIR, 0o1777, 0, "writable by other users"),
    ("EXPORTED", DIR, 0o755, 0, None),
    ("EXPORTED", DIR, 0o700, US, None),
    ("EXPORTED", LINK, 0o777, US, "a symbolic link"),
    ("EXPORTED", DIR, 0o755, OTHER, f"owned by uid {OTHER}, neither us nor root"),
    # A store we read: sticky is fine above it (see the walk below), not for the store itself
    # (others may add to it: round 3); a link's own mode means nothing, but its owner does.
    ("STORE", DIR, 0o1777, 0, "sticky but writable by other users: they may add to it"),
    ("STORE", DIR, 0o1755, 0, None),
    ("STORE", LINK, 0o777, 0, None),
    ("STORE", LINK, 0o777, OTHER, f"owned by uid {OTHER}, neither us nor root"),
    ("STORE", FILE, 0o666, 0, "writable by other users without the sticky bit"),
    ("STORE", FILE, 0o644, 0, None),
    ("STORE", DIR, 0o775, 0, "writable by other users without the sticky bit"),
    # Ours alone: our uid (not even root's), no bits for anyone else, sticky or not.
    ("MINE", DIR, 0o700, US, None),
    ("MINE", DIR, 0o750, US, "open to other users"),
    ("MINE", DIR, 0o1700, US, None),
    ("MINE", DIR, 0o1707, US, "open to other users"),
    ("MINE", LINK, 0o777, US, "a symbolic link"),
]
if US != 0:
    TABLE.append(("MINE", DIR, 0o700, 0, "owned by uid 0, not us"))


@pytest.mark.parametrize(("policy", "kind", "mode", "owner", "why"), TABLE)
def test_one_predicate_named_policies(runtime, policy, kind, mode, owner, why):
    from pyoxidizer_ssl_bootstrap import _platform

    assert _platform.open_to_others(_info(kind, mode, owner), getattr(_platform, policy)) == why


def test_sticky_excuses_a_directory_above_a_store_never_the_store(runtime, tmp_path):
    """Round 3: /tmp above a store is fine (only an entry's owner may rename it there), but a
    sticky world-writable store directory lets anyone add an XXXXXXXX.N entry to it. The temp
    parent is the entry we make our own directory in: sticky is what it is for."""
    from pyoxidizer_ssl_bootstrap import _platform

    info = _info(DIR, 0o1777, 0)
    assert _platform.open_to_others(info, _platform.STORE, above=True) is None
    assert _platform.open_to_others(info, _platform.STORE) is not None
    assert _platform.open_to_others(info, _platform.TEMP_PARENT) is None
    shared = tmp_path / "shared"
    (shared / "store").mkdir(parents=True)
    shared.chmod(0o1777)
    assert _platform.chain_open_to_others(str(shared / "store"), _platform.STORE) is None
    (shared / "store").chmod(0o1777)
    why = _platform.chain_open_to_others(str(shared / "store"), _platform.STORE)
    assert (
        why == f"{str(shared / 'store')!r}: sticky but writable by other users: they may add to it"
    )


def test_a_walking_policy_looks_at_every_directory_above(runtime, tmp_path):
    from pyoxidizer_ssl_bootstrap import _platform

    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True, mode=0o700)
    (tmp_path / "a").chmod(0o777)  # one level up, writable by anyone
    why = _platform.chain_open_to_others(str(inner), _platform.STORE)
    assert why == f"{str(tmp_path / 'a')!r}: writable by other users without the sticky bit"
    assert _platform.chain_open_to_others(str(inner), _platform.TEMP_PARENT) is None  # one entry


def test_a_store_not_there_is_judged_by_who_may_make_it(runtime, tmp_path):
    """Round 3: a missing store was "not changeable" without looking further, so a file another
    user made between the check and the read was read. Now what is above decides, and a
    sticky directory holding the missing name does not excuse it (anyone may create it)."""
    from pyoxidizer_ssl_bootstrap import _platform

    shared = tmp_path / "shared"
    (shared / "safe").mkdir(parents=True)
    shared.chmod(0o1777)
    why = _platform.chain_open_to_others(str(shared / "none" / "cert.pem"), _platform.STORE)
    assert why == f"{str(shared)!r}: sticky but writable by other users: they may add to it"
    assert _platform.chain_open_to_others(str(shared / "safe" / "x.pem"), _platform.STORE) is None
    shared.chmod(0o777)
    assert _platform.chain_open_to_others(str(shared / "safe" / "x.pem"), _platform.STORE)
