"""The hashed copy's verdict kept between runs, in process (``_verdicts``; #20.4).

A hashed directory written here the way ``openssl rehash`` writes one (each root a file, named
``<subject hash>.N``), its bundle beside it, and the cache in a directory only we and root can
write (``support.env.only_ours_dir``). ``check`` is called as ``_sources.hashed_copy`` calls
it; the real handshakes, the distro layout and another user's attacks are in
test_hashed_copy_kept.py. ``RACY_NS`` is 0 here unless a test says otherwise: the files were
written moments before.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from pyoxidizer_ssl import x509

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the cache needs /proc/self/fd (Linux)"
)
KNOWN = "sources.system.hashed_dir.verdict_known"
KEPT = "sources.system.hashed_dir.verdict_kept"
NOT_KEPT = "sources.system.hashed_dir.verdict_not_kept"
REFUSED = "sources.system.hashed_dir.verdict_refused"


@pytest.fixture
def store(safe_dir: Path, bundle_pem: bytes) -> tuple[str, str, bytes]:
    """(hashed directory, bundle path, bundle bytes): a faithful copy, as rehash makes one."""
    directory = safe_dir / "directory-hash"
    directory.mkdir()
    counts: dict[str, int] = {}
    for index, (pem, der) in enumerate(x509.pem_blocks(bundle_pem)):
        name = f"cert{index:03d}.pem"
        (directory / name).write_bytes(pem)
        digest = x509.subject_hash(der)
        number = counts.get(digest, 0)
        counts[digest] = number + 1
        os.symlink(name, directory / f"{digest}.{number}")
    bundle = safe_dir / "bundle.pem"
    bundle.write_bytes(bundle_pem)
    return str(directory), str(bundle), bundle_pem


@pytest.fixture
def verdicts(cache_in, monkeypatch, safe_dir):
    """``_verdicts`` with its cache in safe_dir/run (XDG_RUNTIME_DIR), RACY_NS 0."""
    from pyoxidizer_ssl_bootstrap import _verdicts

    runtime_dir = safe_dir / "run"
    runtime_dir.mkdir(mode=0o700)
    cache_in(runtime_dir)
    monkeypatch.setattr(_verdicts, "RACY_NS", 0)
    return _verdicts


def _hashed(safe_dir: Path) -> Path:
    return safe_dir / "run" / "pyoxidizer-ssl" / "HASHED"


def test_kept_then_known(verdicts, store, trace, safe_dir):
    directory, bundle, data = store
    assert verdicts.check(directory, bundle, data, trace) is None
    assert KEPT in trace.step_keys() and KNOWN not in trace.step_keys()
    info = _hashed(safe_dir).stat()
    assert (info.st_uid, info.st_mode & 0o777) == (os.geteuid(), 0o600)
    again = type(trace)()
    assert verdicts.check(directory, bundle, data, again) is None
    assert KNOWN in again.step_keys() and KEPT not in again.step_keys()


def test_a_refusal_is_never_kept(verdicts, store, trace, safe_dir):
    directory, bundle, data = store
    for name in os.listdir(directory):  # a root of the bundle missing: cert003 and its link
        path = os.path.join(directory, name)
        if name == "cert003.pem" or (os.path.islink(path) and os.readlink(path) == "cert003.pem"):
            os.unlink(path)
    assert "1 of the bundle's certificates missing" in verdicts.check(
        directory, bundle, data, trace
    )
    assert KEPT not in trace.step_keys() and not _hashed(safe_dir).exists()


def test_a_bundle_changed_after_it_was_read_keeps_no_verdict(verdicts, store, trace):
    """The bytes checked must be those of the file whose identity is kept: here the caller
    read the bundle before a root was appended to it (the directory matched what it read)."""
    directory, bundle, data = store
    with open(bundle, "ab") as f:
        f.write(b"\n")
    assert verdicts.check(directory, bundle, data, trace) is None  # faithful to what was read
    assert NOT_KEPT in trace.step_keys() and KEPT not in trace.step_keys()


def _read_with_fstat(bundle: str) -> tuple[bytes, os.stat_result]:
    """The bundle's bytes and the fstat taken before reading them, as read_bundle takes it."""
    with open(bundle, "rb") as f:
        info = os.fstat(f.fileno())
        return f.read(info.st_size), info


def test_the_reads_own_fstat_keys_the_verdict(verdicts, store, trace):
    """Given the fstat taken as the bundle was read, the verdict is keyed by it (the bundle is
    not read again), and the next run knows it."""
    directory, bundle, _ = store
    data, info = _read_with_fstat(bundle)
    assert verdicts.check(directory, bundle, data, trace, info) is None
    assert KEPT in trace.step_keys()
    again = type(trace)()
    assert verdicts.check(directory, bundle, *_read_with_fstat(bundle)[:1], again) is None
    assert KNOWN in again.step_keys(), again.steps


def test_a_bundle_changed_after_the_read_fstat_is_checked_whole_next_run(verdicts, store, trace):
    """A write after the fstat moves the bundle's ctime past what was kept: the next run,
    reading the new bytes, finds the verdict's inputs changed and runs the whole check, which
    refuses the directory (the bundle now holds a root the directory lacks)."""
    directory, bundle, _ = store
    data, info = _read_with_fstat(bundle)
    assert verdicts.check(directory, bundle, data, trace, info) is None
    assert KEPT in trace.step_keys()
    import trustme

    with open(bundle, "ab") as f:  # a root the directory lacks, appended after the read
        f.write(trustme.CA().cert_pem.bytes())
    again = type(trace)()
    reason = verdicts.check(directory, bundle, _read_with_fstat(bundle)[0], again)
    assert KNOWN not in again.step_keys(), again.steps
    assert reason is not None and "1 of the bundle's certificates" in reason, reason


def test_a_change_moments_ago_keeps_no_verdict(verdicts, store, trace, monkeypatch):
    monkeypatch.setattr(verdicts, "RACY_NS", 3_000_000_000)
    directory, bundle, data = store
    assert verdicts.check(directory, bundle, data, trace) is None
    assert NOT_KEPT in trace.step_keys() and KEPT not in trace.step_keys()


def test_no_boot_id_keeps_no_verdict(verdicts, store, trace, monkeypatch):
    from pyoxidizer_ssl_bootstrap import _cache

    monkeypatch.setattr(_cache, "_boot", "unknown")  # no /proc/sys/kernel/random/boot_id
    directory, bundle, data = store
    assert verdicts.check(directory, bundle, data, trace) is None
    assert NOT_KEPT in trace.step_keys()


@pytest.mark.parametrize(
    "damage",
    ["truncated", "another format", "a symbolic link", "open to others", "garbage hex"],
)
def test_a_damaged_verdicts_file_is_checked_whole_and_rewritten(
    damage, verdicts, store, trace, safe_dir
):
    directory, bundle, data = store
    assert verdicts.check(directory, bundle, data, trace) is None
    path = _hashed(safe_dir)
    text = path.read_text()
    if damage == "truncated":
        path.write_text(text[: len(text) // 2])
    elif damage == "another format":
        path.write_text(text.replace(verdicts.VERDICTS_FORMAT, "pyoxidizer-ssl hashed-copy 0"))
    elif damage == "a symbolic link":
        elsewhere = safe_dir / "elsewhere"
        elsewhere.write_text(text)
        path.unlink()
        path.symlink_to(elsewhere)
    elif damage == "open to others":
        path.chmod(0o644)
    else:
        lines = text.split("\n")
        tag, _, kept = lines[1].split(" ")
        path.write_text(f"{lines[0]}\n{tag} zz {kept}\n")
    again = type(trace)()
    assert verdicts.check(directory, bundle, data, again) is None
    assert KNOWN not in again.step_keys() and KEPT in again.step_keys(), again.steps
    if damage in ("a symbolic link", "open to others", "another format"):
        assert REFUSED in again.step_keys()
    assert not path.is_symlink() and path.stat().st_mode & 0o777 == 0o600
    third = type(trace)()
    assert verdicts.check(directory, bundle, data, third) is None
    assert KNOWN in third.step_keys()


def test_a_privileged_exec_keeps_and_reads_no_verdict(
    verdicts, store, trace, safe_dir, monkeypatch
):
    """AT_SECURE (a setuid or capability exec): the caller's XDG_* and HOME would choose where
    a verdict is read from; the whole check runs, nothing is kept."""
    from pyoxidizer_ssl_bootstrap import _platform

    monkeypatch.setattr(_platform, "_secure", True)  # what the auxiliary vector said at exec
    directory, bundle, data = store
    assert verdicts.check(directory, bundle, data, trace) is None
    assert "sources.system.hashed_dir.verdict_unavailable" in trace.step_keys()
    assert not _hashed(safe_dir).exists()


def test_two_directories_keep_a_verdict_each(verdicts, store, trace, safe_dir):
    directory, bundle, data = store
    other = safe_dir / "other-hash"
    shutil.copytree(directory, other, symlinks=True)
    assert verdicts.check(directory, bundle, data, trace) is None
    assert verdicts.check(str(other), bundle, data, trace) is None
    assert trace.step_keys().count(KEPT) == 2
    again = type(trace)()
    assert verdicts.check(directory, bundle, data, again) is None
    assert verdicts.check(str(other), bundle, data, again) is None
    assert again.step_keys().count(KNOWN) == 2


def test_a_link_through_another_link_keeps_no_verdict(verdicts, store, trace):
    """X.0 -> alias.pem -> cert003.pem passes the check (it ends at a file of the directory),
    but a later run's lstat of the names would not see cert003.pem written in place: no
    verdict is kept, the whole check runs at every run."""
    directory, bundle, data = store
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if os.path.islink(path) and os.readlink(path) == "cert003.pem":
            os.unlink(path)
            os.symlink("alias.pem", path)
    os.symlink("cert003.pem", os.path.join(directory, "alias.pem"))
    assert verdicts.check(directory, bundle, data, trace) is None
    assert "through another link" in trace.step(NOT_KEPT)
    again = type(trace)()
    assert verdicts.check(directory, bundle, data, again) is None
    assert KNOWN not in again.step_keys()


def test_no_usable_cache_directory_checks_whole_every_run(verdicts, store, trace, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", "not/absolute")  # refused; nothing else is set
    directory, bundle, data = store
    for _ in range(2):
        assert verdicts.check(directory, bundle, data, trace) is None
    assert trace.step_keys().count("sources.system.hashed_dir.verdict_unavailable") == 2
    assert KEPT not in trace.step_keys() and KNOWN not in trace.step_keys()


def test_a_fifo_in_place_of_the_verdicts_file_never_blocks(verdicts, store, trace, safe_dir):
    """Opened without blocking (a FIFO would otherwise wait for a writer forever): refused,
    the directory checked whole. SIGALRM turns a hang into this test's failure."""
    import signal

    directory, bundle, data = store
    assert verdicts.check(directory, bundle, data, trace) is None
    path = _hashed(safe_dir)
    path.unlink()
    os.mkfifo(path, 0o600)
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("blocked on the FIFO"))
    signal.alarm(10)
    try:
        again = type(trace)()
        assert verdicts.check(directory, bundle, data, again) is None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert REFUSED in again.step_keys() and KNOWN not in again.step_keys()


@pytest.mark.parametrize("tampered", [False, True])
def test_a_directory_replaced_by_a_copy_under_its_name_is_checked_whole(
    tampered, verdicts, store, trace
):
    """A later run lstats the names relative to one descriptor of the directory, whose own
    fstat is the directory's part of the key: that ties every name looked up to the directory
    the verdict was taken on. Here the directory is renamed aside after a verdict was kept and
    a copy put under its name: the same names, bytes, modes and mtimes (copy2), links as links;
    in the tampered case one entry also holds a CA the bundle lacks. The copy is another
    inode with its own ctime, and so is each entry in it: the whole check runs and says what
    it finds (faithful, or refused)."""
    directory, bundle, data = store
    assert verdicts.check(directory, bundle, data, trace) is None
    assert KEPT in trace.step_keys()
    os.rename(directory, directory + ".old")
    shutil.copytree(directory + ".old", directory, symlinks=True)  # copy2: mtimes kept
    if tampered:
        import trustme

        with open(os.path.join(directory, "cert003.pem"), "ab") as f:
            f.write(trustme.CA().cert_pem.bytes())
    again = type(trace)()
    reason = verdicts.check(directory, bundle, data, again)
    assert KNOWN not in again.step_keys(), again.steps
    if tampered:
        assert reason is not None and "1 others" in reason, reason
    else:
        assert reason is None and KEPT in again.step_keys()
