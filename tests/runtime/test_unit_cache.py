"""The between-runs cache, in process: keys, INDEX, publish, hit, refusals, eviction.

Each test gets a cache location whose whole path only root and we can write
(``support.env.only_ours_dir``; not /tmp, which others may write and the cache refuses).
Another user's attacks, with real handshakes, are in test_attacks_cache.py.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

FILES = [("0d2a4c1e.0", b"first\n"), ("0d2a4c1e.1", b"second\n"), ("5f0b62ea.0", b"third\n")]
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the cache needs /proc/self/fd (Linux)"
)


@pytest.fixture
def cache(cache_in, safe_dir):
    """``_cache`` with its cache in safe_dir (``cache_in``)."""
    return cache_in(safe_dir)


def publishing():
    """``_cache_publish``: the cache's writing half (a hit never loads it)."""
    from pyoxidizer_ssl_bootstrap import _cache_publish

    return _cache_publish


def _publish(cache, trace, name="e-" + "1" * 40, files=FILES):
    opened = cache.open_cache(trace)
    assert opened is not None, trace.step_keys()
    try:
        return publishing().publish(opened, name, files, trace)
    finally:
        cache.close(opened)


def _lookup(cache, trace, name="e-" + "1" * 40):
    opened = cache.open_cache(trace)
    assert opened is not None, trace.step_keys()
    try:
        return cache.lookup(opened, name, trace)
    finally:
        cache.close(opened)


def test_key_changes_with_everything_that_decides_the_content(cache):
    base = cache.key("1.0", ["a" * 64], False, [])
    assert base.startswith("e-") and len(base) == 42
    assert cache.key("1.0", ["a" * 64], False, []) == base
    others = {
        cache.key("1.1", ["a" * 64], False, []),
        cache.key("1.0", ["b" * 64], False, []),
        cache.key("1.0", ["a" * 64, "b" * 64], False, []),
        cache.key("1.0", ["a" * 64], True, []),
        cache.key("1.0", ["a" * 64], False, [("0d2a4c1e", "PEM")]),
        cache.key("1.0", ["a" * 64 + "b" * 64], False, []),  # framing: no concatenation clash
    }
    assert base not in others and len(others) == 6


def test_digest_is_blake2b_256_as_render_computes_certifi_s(cache):
    import hashlib

    assert cache.digest(b"x") == hashlib.blake2b(b"x", digest_size=32).hexdigest()


def test_index_round_trip_and_every_damage_refused(cache):
    name = "e-" + "2" * 40
    text = publishing().render_index(name, FILES, "b00t")
    assert cache.parse_index(text, name) == ("b00t", [(n, len(data)) for n, data in FILES], 0)
    assert cache.parse_index(text, "e-" + "3" * 40) is None  # renamed to another key
    assert cache.parse_index(text[:-10], name) is None  # truncated
    assert cache.parse_index(text[: text.index(b"\nend")] + b"\n", name) is None  # no end line
    lines = text.split(b"\n")
    assert cache.parse_index(b"\n".join(lines[:3] + lines[4:]), name) is None  # a line dropped
    forged = text.replace(b"0d2a4c1e.1", b"../../etc.1")
    assert cache.parse_index(forged, name) is None
    forged = text.replace(b"0d2a4c1e.1 7 ", b"0d2a4c1e.1 -7 ")
    assert cache.parse_index(forged, name) is None
    assert cache.parse_index(b"\n".join(lines[:5] + lines[6:]), name) is None  # a file's line
    assert cache.parse_index(text.replace(b"0d2a4c1e.1 7 ", b"0d2a4c1e.1 8 "), name) is None
    body = text[: text.index(b"end ")]
    resealed = body.replace(b"source 0", b"source 9") + cache.index_seal(body, 3)
    assert cache.parse_index(resealed, name) is None  # the seal covers every byte before it
    resealed = body.replace(b"source 0", b"source x")
    assert cache.parse_index(resealed + cache.index_seal(resealed, 3), name) is None


def test_an_index_of_the_first_format_is_refused(cache):
    """Format 2 seals the INDEX with a CRC-32 instead of a BLAKE2b digest and says whether the
    entry keeps its bundle: an entry of format 1 (a BLAKE2b seal, no source line) is refused,
    and no key of format 2 can name one (FORMAT is part of every key)."""
    import hashlib

    name = "e-" + "2" * 40
    lines = ["pyoxidizer-ssl cache 1", name, "boot b00t"]
    lines += [f"{n} {len(d)} {hashlib.blake2b(d, digest_size=32).hexdigest()}" for n, d in FILES]
    body = ("\n".join(lines) + "\n").encode("ascii")
    old = body + f"end 3 {hashlib.blake2b(body, digest_size=32).hexdigest()}\n".encode("ascii")
    assert cache.parse_index(old, name) is None
    assert cache.FORMAT == "pyoxidizer-ssl cache 2"
    assert cache.key("1.0", ["a" * 64], False, []) != _format_1_key("1.0", ["a" * 64])


def _format_1_key(version, bundles):
    """The key format 1 gave (``_cache.key`` with the old FORMAT)."""
    import hashlib

    h = hashlib.blake2b(digest_size=20, person=b"pyoxidizer-ssl")
    for part in ["pyoxidizer-ssl cache 1", version, "system", *bundles]:
        raw = part.encode("utf-8")
        h.update(len(raw).to_bytes(8, "little") + raw)
    return "e-" + h.hexdigest()


def test_publish_then_hit_through_the_descriptor(cache, trace, safe_dir):
    made = _publish(cache, trace)
    assert made is not None and "cache.published" in trace.step_keys()
    assert made.path == f"/proc/self/fd/{made.fd}" and made.fd >= 512
    real = safe_dir / "pyoxidizer-ssl" / ("e-" + "1" * 40)
    assert made.real_path == str(real) and os.path.realpath(made.path) == str(real)
    assert stat.S_IMODE(real.stat().st_mode) == 0o700
    assert stat.S_IMODE((safe_dir / "pyoxidizer-ssl").stat().st_mode) == 0o700
    assert real.stat().st_mtime_ns == cache.SENTINEL_NS
    assert sorted(os.listdir(real)) == sorted([n for n, _ in FILES] + ["INDEX"])
    assert made.count == 3 and made.intact() and made.exportable()
    assert not [n for n in os.listdir(real.parent) if n.startswith("tmp-")]
    hit = _lookup(cache, trace)
    assert hit is not None and "cache.hit" in trace.step_keys() and hit.count == 3
    assert hit.fd != made.fd and hit.intact()


def test_missing_entry_is_a_miss(cache, trace):
    assert _lookup(cache, trace) is None
    assert "cache.miss" in trace.step_keys()


@pytest.mark.parametrize(
    "damage",
    [
        "touch",
        "add_file",
        "remove_file",
        "truncate_index",
        "chmod_750",
        "index_other_key",
        "empty_file",  # what a crash before writeback leaves on ext4
        "file_to_link",
    ],
)
def test_a_changed_entry_is_refused_then_republished(cache, trace, safe_dir, damage):
    made = _publish(cache, trace)
    assert made is not None
    real = Path(made.real_path)
    if damage == "touch":
        os.utime(real)
    elif damage == "add_file":
        (real / "abcdef01.0").write_bytes(b"evil\n")
    elif damage == "remove_file":
        (real / "5f0b62ea.0").unlink()
    elif damage == "truncate_index":
        data = (real / "INDEX").read_bytes()
        (real / "INDEX").write_bytes(data[: len(data) // 2])
    elif damage == "chmod_750":
        real.chmod(0o750)
    elif damage == "empty_file":  # INDEX from an earlier boot: sizes are then checked
        (real / "5f0b62ea.0").write_bytes(b"")
        (real / "INDEX").write_bytes(publishing().render_index(real.name, FILES, "earlier-boot"))
    elif damage == "file_to_link":
        (real / "INDEX").write_bytes(publishing().render_index(real.name, FILES, "earlier-boot"))
        (real / "5f0b62ea.0").unlink()
        (real / "5f0b62ea.0").symlink_to(real / "0d2a4c1e.1")
    elif damage == "index_other_key":
        (real / "INDEX").write_bytes(
            publishing().render_index("e-" + "9" * 40, FILES, cache.boot_id())
        )
    if damage != "touch":
        os.utime(
            real, ns=(cache.SENTINEL_NS, cache.SENTINEL_NS)
        )  # the sentinel alone is not enough
    assert _lookup(cache, trace) is None
    assert "cache.entry_refused" in trace.step_keys()
    if damage in ("touch", "chmod_750"):
        assert not made.intact()  # a live process notices too, at its next context
    os.close(made.fd)  # its shared lock: the entry can now be removed and published again
    again = _publish(cache, trace)
    assert again is not None and again.intact()
    assert sorted(os.listdir(again.path)) == sorted([n for n, _ in FILES] + ["INDEX"])


def test_a_held_refused_entry_is_not_removed(cache, trace):
    made = _publish(cache, trace)
    assert made is not None
    os.utime(made.real_path)  # refused from now on, but another process (made) still holds it
    assert _publish(cache, trace) is None
    assert "cache.publish_failed" in trace.step_keys()
    assert os.path.isdir(made.real_path)


@pytest.mark.parametrize("mode", [0o770, 0o755, 0o701])
def test_a_cache_directory_open_to_others_is_refused(cache, trace, safe_dir, mode):
    assert _publish(cache, trace) is not None
    (safe_dir / "pyoxidizer-ssl").chmod(mode)
    assert cache.open_cache(trace) is None
    assert "cache.refused" in trace.step_keys() and "cache.none" in trace.step_keys()


def test_a_group_writable_parent_is_refused(cache, trace, safe_dir):
    safe_dir.chmod(0o770)
    assert cache.open_cache(trace) is None
    assert "writable by other users" in " ".join(trace)


def test_a_link_anywhere_in_the_path_as_given_is_refused(cache, trace, safe_dir, monkeypatch):
    real = safe_dir / "real"
    real.mkdir(mode=0o700)
    (safe_dir / "link").symlink_to(real)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(safe_dir / "link" / "."))
    assert cache.open_cache(trace) is None
    assert "a symbolic link" in " ".join(trace)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(safe_dir / "link" / "sub" / ".."))  # lexically: link
    assert cache.open_cache(trace) is None


def test_a_relative_location_is_refused(cache, trace, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", "relative/run")
    assert cache.open_cache(trace) is None
    assert "not an absolute path" in " ".join(trace)


def test_xdg_cache_home_then_home_cache(cache, trace, safe_dir, monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("HOME", str(safe_dir))
    opened = cache.open_cache(trace)
    assert opened is not None and opened[1] == str(safe_dir / ".cache" / "pyoxidizer-ssl")
    assert opened[2]  # on disk, as the trace says
    cache.close(opened)
    assert stat.S_IMODE((safe_dir / ".cache").stat().st_mode) == 0o700
    other = safe_dir / "xdg"
    other.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_CACHE_HOME", str(other))
    opened = cache.open_cache(trace)
    assert opened is not None and opened[1] == str(other / "pyoxidizer-ssl")
    cache.close(opened)


def test_at_most_eight_entries_oldest_unheld_evicted(cache, trace, safe_dir):
    made = []
    for index in range(cache.MAX_ENTRIES + 2):
        entry = _publish(cache, trace, name="e-" + format(index, "040x"))
        assert entry is not None
        made.append(entry)
        if index >= 1:
            os.close(entry.fd)  # only the first stays held, as by a process still running
    names = sorted(n for n in os.listdir(safe_dir / "pyoxidizer-ssl") if n.startswith("e-"))
    assert len(names) == cache.MAX_ENTRIES + 1  # the held one is never evicted
    assert "e-" + format(0, "040x") in names and "e-" + format(1, "040x") not in names
    assert "cache.evicted" in trace.step_keys()


def test_a_killed_publisher_s_leftover_is_swept(cache, trace, safe_dir):
    assert _publish(cache, trace) is not None
    leftover = safe_dir / "pyoxidizer-ssl" / ("tmp-" + "0" * 16)
    leftover.mkdir(mode=0o700)
    (leftover / "0d2a4c1e.0").write_bytes(b"half\n")
    assert _publish(cache, trace, name="e-" + "5" * 40) is not None
    assert not leftover.exists() and "cache.stale_removed" in trace.step_keys()


def test_unavailable_while_ids_are_changed(cache, monkeypatch):
    from pyoxidizer_ssl_bootstrap import _platform

    assert cache.unavailable() is None
    monkeypatch.setattr(_platform, "ids_settled", lambda: False)
    assert "temporarily changed" in (cache.unavailable() or "")
    monkeypatch.setattr(_platform, "env_is_trusted", lambda: False)
    assert "privileged" in (cache.unavailable() or "")
    monkeypatch.setattr(_platform, "FD_PATH", None)
    assert "platform" in (cache.unavailable() or "")


def test_sizes_are_checked_only_after_a_reboot(cache, trace, safe_dir):
    """In the boot that wrote it nothing can be lost to a crash; in a later one an entry whose
    files were cut short (writeback lost) is refused."""
    made = _publish(cache, trace)
    assert made is not None
    real = Path(made.real_path)
    (real / "5f0b62ea.0").write_bytes(b"thi")  # not a crash: same boot, size not looked at
    os.utime(real, ns=(cache.SENTINEL_NS, cache.SENTINEL_NS))
    assert _lookup(cache, trace) is not None
    (real / "INDEX").write_bytes(publishing().render_index(real.name, FILES, "earlier-boot"))
    os.utime(real, ns=(cache.SENTINEL_NS, cache.SENTINEL_NS))
    assert _lookup(cache, trace) is None
    assert "of 6 bytes written" in trace.step("cache.entry_refused")


@pytest.fixture
def decision(runtime, monkeypatch, tmp_path):
    """A decision splitting a 3-root bundle; private directories under tmp_path (0700)."""
    import certifi
    from pyoxidizer_ssl_bootstrap import _platform, _sources

    parent = tmp_path / "parent"
    parent.mkdir(mode=0o700)
    monkeypatch.setattr(_platform, "TEMP_PARENTS", ("$TEST_PARENT",))
    monkeypatch.setenv("TEST_PARENT", str(parent))
    roots = Path(certifi.where()).read_bytes().split(b"-----END CERTIFICATE-----")[:3]
    data = b"".join(r + b"-----END CERTIFICATE-----" for r in roots) + b"\n"
    return _sources.Decision("system", "/bundle.pem", [("/bundle.pem", data)])


def test_build_publishes_then_hits(cache, trace, decision):
    from pyoxidizer_ssl_bootstrap import _plan

    first = _plan.build(decision, trace)
    assert isinstance(first.private, cache.Entry) and first.count == 3
    assert "cache.published" in trace.step_keys()
    second = _plan.build(decision, trace)
    assert isinstance(second.private, cache.Entry) and "cache.hit" in trace.step_keys()
    assert second.count == 3 and second.loads == [(None, second.private.path, None)]
    assert sorted(os.listdir(second.private.path)) == sorted(os.listdir(first.private.path))


def test_a_failing_cache_falls_back_to_a_private_directory(cache, trace, decision, monkeypatch):
    from pyoxidizer_ssl_bootstrap import _plan, _private_dir

    def boom(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cache, "lookup", boom)
    plan = _plan.build(decision, trace)
    assert "cache.failed" in trace.step_keys()
    assert isinstance(plan.private, _private_dir.PrivateDir) and plan.count == 3


def test_on_disk_an_entry_is_published_at_the_second_miss(cache, trace, decision, monkeypatch):
    """A fresh container's only run leaves a marker, not ~120 files; the second run publishes."""
    from pyoxidizer_ssl_bootstrap import _plan, _private_dir

    home = Path(os.environ["XDG_RUNTIME_DIR"])
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("HOME", str(home))
    first = _plan.build(decision, trace)
    assert (
        isinstance(first.private, _private_dir.PrivateDir) and "cache.deferred" in trace.step_keys()
    )
    where = home / ".cache" / "pyoxidizer-ssl"
    assert [n[:2] for n in os.listdir(where)] == ["s-"]
    second = _plan.build(decision, trace)
    assert isinstance(second.private, cache.Entry) and "cache.published" in trace.step_keys()
    assert [n[:2] for n in os.listdir(where)] == ["e-"]  # the marker goes with the publication
    third = _plan.build(decision, trace)
    assert isinstance(third.private, cache.Entry) and "cache.hit" in trace.step_keys()


@pytest.fixture
def bundle_file(runtime, tmp_path, monkeypatch):
    """A 3-root bundle on disk and a function making the decision that reads it (with the
    fstat taken as it is read); the private directories' parent under tmp_path (0700)."""
    import certifi
    from pyoxidizer_ssl_bootstrap import _platform, _sources

    parent = tmp_path / "parent"
    parent.mkdir(mode=0o700)
    monkeypatch.setattr(_platform, "TEMP_PARENTS", ("$TEST_PARENT",))
    monkeypatch.setenv("TEST_PARENT", str(parent))
    roots = Path(certifi.where()).read_bytes().split(b"-----END CERTIFICATE-----")[:4]
    path = tmp_path / "bundle.pem"
    path.write_bytes(b"".join(r + b"-----END CERTIFICATE-----" for r in roots[:3]) + b"\n")

    def decide(trace):
        stats: list = []
        data = _sources.read_bundle(str(path), "system: candidate", trace, stats=stats)
        assert data is not None and len(stats) == 1
        return _sources.Decision("system", str(path), [(str(path), data)], stats=stats)

    decide.path = path  # type: ignore[attr-defined]
    decide.fourth = roots[3] + b"-----END CERTIFICATE-----"  # type: ignore[attr-defined]
    return decide


def _later(monkeypatch, seconds=10):
    """The clock moved on: what was just written is no longer too recent to be remembered."""
    import time

    now = time.time_ns()
    monkeypatch.setattr(time, "time_ns", lambda: now + seconds * 1_000_000_000)


def _no_digest(cache, monkeypatch):
    """A hit that knows its entry hashes nothing: no bundle, and no INDEX (a CRC-32 seals it)."""

    def refuse(data: bytes) -> str:
        raise AssertionError(f"{len(data)} bytes were hashed")

    monkeypatch.setattr(cache, "digest", refuse)


@pytest.fixture
def certifi_decision(decision):
    """A decision of certifi's kind: a bundle with no file of its own (in memory, or lib/)."""
    from pyoxidizer_ssl_bootstrap import _sources

    data = decision.files[0][1]
    return lambda data=data: _sources.Decision("certifi", "certifi", [(None, data)], certifi=True)


def test_certifi_is_known_by_the_copy_its_entry_keeps_not_hashed(
    cache, trace, certifi_decision, monkeypatch
):
    """certifi has no file identity: its entry keeps the bundle (SOURCE) and IDENTITIES a hint
    (size, the executable); the next run compares the bundle with that copy (no BLAKE2b, no
    _blake2) and uses the entry."""
    from pyoxidizer_ssl_bootstrap import _plan

    first = _plan.build(certifi_decision(), trace)
    assert isinstance(first.private, cache.Entry) and first.count == 3
    assert {"cache.published", "cache.identity_remembered"} <= set(trace.step_keys())
    data = certifi_decision().files[0][1]
    kept = Path(first.private.real_path, "SOURCE")
    assert kept.read_bytes() == data and stat.S_IMODE(kept.stat().st_mode) == 0o600
    _no_digest(cache, monkeypatch)
    again = trace.__class__()
    second = _plan.build(certifi_decision(), again)
    assert isinstance(second.private, cache.Entry) and second.count == 3
    assert {"cache.identity_known", "cache.hit"} <= set(again.step_keys())
    assert second.private.real_path == first.private.real_path


@pytest.mark.parametrize("change", ["same_size", "longer", "shorter"])
def test_a_certifi_of_other_bytes_is_hashed_not_taken_for_the_kept_one(
    cache, trace, certifi_decision, change
):
    """The hint names the entry of the certifi seen last; a certifi of other bytes (another
    build; here a root's signature byte changed, keeping the size) does not match its copy:
    hashed, and an entry of its own published; the other entry is left as it is."""
    from pyoxidizer_ssl_bootstrap import _plan

    first = _plan.build(certifi_decision(), trace)
    data = certifi_decision().files[0][1]
    if change == "same_size":
        at = data.rindex(b"-----END CERTIFICATE-----") - 10
        other = data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]
        assert len(other) == len(data) and other != data
    else:
        other = data + b"# a comment\n" if change == "longer" else data[:-1]
    again = trace.__class__()
    second = _plan.build(certifi_decision(other), again)
    assert "cache.source_differs" in again.step_keys() or change != "same_size"
    assert "cache.hit" not in again.step_keys() and "cache.published" in again.step_keys()
    assert isinstance(second.private, cache.Entry)
    assert second.private.real_path != first.private.real_path
    assert Path(second.private.real_path, "SOURCE").read_bytes() == other
    assert Path(first.private.real_path, "SOURCE").read_bytes() == data


def test_a_kept_copy_changed_inside_its_entry_is_never_a_hit(cache, trace, certifi_decision):
    """SOURCE rewritten in place, the sentinel mtime put back (only our own uid could): the
    next run's certifi no longer matches it, so it is hashed; its key names this very entry,
    which is then refused and published again, with the right copy."""
    from pyoxidizer_ssl_bootstrap import _plan

    first = _plan.build(certifi_decision(), trace)
    real = Path(first.private.real_path)
    data = certifi_decision().files[0][1]
    (real / "SOURCE").write_bytes(bytes(len(data)))
    os.utime(real, ns=(cache.SENTINEL_NS, cache.SENTINEL_NS))
    os.close(first.private.fd)  # that run has ended: nothing holds its entry (else kept)
    again = trace.__class__()
    second = _plan.build(certifi_decision(), again)
    keys = again.step_keys()
    assert "cache.source_differs" in keys and "cache.published" in keys, keys
    assert "cache.hit" not in keys
    assert isinstance(second.private, cache.Entry)
    assert Path(second.private.real_path, "SOURCE").read_bytes() == data


def test_an_unchanged_bundle_is_not_hashed_again(cache, trace, bundle_file, monkeypatch):
    """Published with the bundle's identity remembered; the next run knows its entry from
    one fstat (no read of IDENTITIES' neighbours, no BLAKE2b of the bundle)."""
    from pyoxidizer_ssl_bootstrap import _plan

    _later(monkeypatch)
    first = _plan.build(bundle_file(trace), trace)
    assert isinstance(first.private, cache.Entry)
    assert {"cache.published", "cache.identity_remembered"} <= set(trace.step_keys())
    _no_digest(cache, monkeypatch)
    again = trace.__class__()
    second = _plan.build(bundle_file(again), again)
    assert isinstance(second.private, cache.Entry) and second.count == 3
    assert {"cache.identity_known", "cache.hit"} <= set(again.step_keys())
    assert second.private.real_path == first.private.real_path


@pytest.mark.parametrize("change", ["same_size_same_mtime", "appended", "replaced_same_bytes"])
def test_a_changed_bundle_is_hashed_again(cache, trace, bundle_file, monkeypatch, change):
    """Any write moves the ctime (which no user can set back): the identity no longer
    matches and the bundle is hashed; new content is a new entry, the same content the same."""
    from pyoxidizer_ssl_bootstrap import _plan

    _later(monkeypatch)
    first = _plan.build(bundle_file(trace), trace)
    assert "cache.identity_remembered" in trace.step_keys()
    path = bundle_file.path
    old = path.read_bytes()
    info = path.stat()
    if change == "same_size_same_mtime":  # two roots swapped: the same size, other bytes
        end = b"-----END CERTIFICATE-----"
        roots = old.split(end)
        new = end.join([roots[1], roots[0], *roots[2:]])
        assert len(new) == len(old) and new != old
        with open(path, "r+b") as f:
            f.write(new)
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
        assert path.stat().st_size == info.st_size and path.stat().st_ino == info.st_ino
    elif change == "appended":
        path.write_bytes(old + bundle_file.fourth + b"\n")
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    else:  # a new file of the same bytes renamed over it (a package update)
        (path.parent / "new.pem").write_bytes(old)
        os.rename(path.parent / "new.pem", path)
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    _later(monkeypatch, 20)
    again = trace.__class__()
    second = _plan.build(bundle_file(again), again)
    keys = again.step_keys()
    assert "cache.identity_known" not in keys
    if change == "replaced_same_bytes":
        assert "cache.hit" in keys and second.private.real_path == first.private.real_path
    else:
        assert "cache.hit" not in keys and "cache.published" in keys
        assert second.private.real_path != first.private.real_path
        if change == "appended":
            assert second.count == 4
    assert "cache.identity_remembered" in keys


def test_a_bundle_changed_moments_ago_is_not_remembered(cache, trace, bundle_file):
    """Within RACY_NS of its last change a file could change again in the same clock tick
    with the same ctime: it is hashed at every run until it has settled."""
    from pyoxidizer_ssl_bootstrap import _plan

    for _ in range(2):
        plan = _plan.build(bundle_file(trace), trace)
        assert isinstance(plan.private, cache.Entry)
    assert "cache.identity_remembered" not in trace.step_keys()
    assert "cache.identity_known" not in trace.step_keys()
    assert not (Path(plan.private.real_path).parent / cache.IDENTITIES).exists()


@pytest.mark.parametrize("damage", ["mode_644", "link", "other_format", "wrong_name"])
def test_identities_not_ours_alone_are_ignored(cache, trace, bundle_file, monkeypatch, damage):
    from pyoxidizer_ssl_bootstrap import _plan

    _later(monkeypatch)
    first = _plan.build(bundle_file(trace), trace)
    where = Path(first.private.real_path).parent / cache.IDENTITIES
    text = where.read_text()
    if damage == "mode_644":
        where.chmod(0o644)
    elif damage == "link":
        (where.parent / "elsewhere").write_text(text)
        where.unlink()
        where.symlink_to(where.parent / "elsewhere")
    elif damage == "other_format":
        where.write_text(text.replace(cache.IDENTITIES_FORMAT, "pyoxidizer-ssl identities 0"))
    else:  # a line naming no entry
        where.write_text(text.replace(" e-", " ../e-"))
    again = trace.__class__()
    second = _plan.build(bundle_file(again), again)
    keys = again.step_keys()
    assert "cache.identity_known" not in keys and "cache.hit" in keys
    assert second.private.real_path == first.private.real_path
    if damage != "wrong_name":
        assert "cache.identity_refused" in keys


def test_identity_names_everything_that_decides_the_content(cache, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x")
    (tmp_path / "g").write_bytes(b"x")
    info = path.stat()
    later = max(info.st_mtime_ns, info.st_ctime_ns) + 10**10
    base = cache.identity("1.0", [("/b", info)], False, [], later)
    assert base is not None
    others = {
        cache.identity("1.1", [("/b", info)], False, [], later),
        cache.identity("1.0", [("/c", info)], False, [], later),
        cache.identity("1.0", [("/b", info)], True, [], later),
        cache.identity("1.0", [("/b", info)], False, [("0d2a4c1e", "PEM")], later),
        cache.identity("1.0", [("/b", info), ("/b", info)], False, [], later),
        cache.identity("1.0", [("/b", (tmp_path / "g").stat())], False, [], later),  # another file
    }
    assert base not in others and len(others) == 6
    assert cache.identity("1.0", [(None, info)], True, [], later) is None  # certifi in memory
    assert cache.identity("1.0", [("/b", None)], False, [], later) is None
    assert cache.identity("1.0", [("/b", info)], False, [], later - 9 * 10**9) is None  # racy


@pytest.fixture
def shm(cache, safe_dir, monkeypatch):
    """A sticky directory open to all, standing for /dev/shm; no XDG variable set."""
    path = safe_dir / "shm"
    path.mkdir()
    path.chmod(0o1777)
    monkeypatch.setattr(cache, "SHM", str(path))
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("HOME", str(safe_dir))
    return path


def test_dev_shm_before_home_cache_after_either_xdg_variable(
    cache, trace, shm, safe_dir, monkeypatch
):
    """In memory where no $XDG_RUNTIME_DIR is set (a miss there costs ~1 ms, on disk 10-30):
    our own 0700 directory in /dev/shm, before ~/.cache, after an XDG_CACHE_HOME that is set;
    never with export_env (no name in /dev/shm stays unclaimable after we exit)."""
    opened = cache.open_cache(trace)
    assert opened is not None
    mine = shm / f"pyoxidizer-ssl-{os.geteuid()}"
    assert opened[1] == str(mine) and not opened[2]  # in memory
    assert stat.S_IMODE(mine.lstat().st_mode) == 0o700 and mine.lstat().st_uid == os.geteuid()
    cache.close(opened)
    opened = cache.open_cache(trace, shared_refused=True)
    assert opened is not None and opened[1] == str(safe_dir / ".cache" / "pyoxidizer-ssl")
    cache.close(opened)
    other = safe_dir / "xdg"
    other.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_CACHE_HOME", str(other))
    opened = cache.open_cache(trace)
    assert opened is not None and opened[1] == str(other / "pyoxidizer-ssl")
    cache.close(opened)


@pytest.mark.parametrize("squat", ["open_dir", "link", "file", "parent_not_sticky", "parent_link"])
def test_an_unusable_dev_shm_name_passes_to_home_cache(cache, trace, shm, safe_dir, squat):
    """Whatever holds the name (another user's directory: test_attacks_cache.py), or a /dev/shm
    others may write without the sticky bit, sends us on to ~/.cache: today's behaviour."""
    name = shm / f"pyoxidizer-ssl-{os.geteuid()}"
    if squat == "open_dir":
        name.mkdir(mode=0o755)
        name.chmod(0o755)
    elif squat == "link":
        (safe_dir / "mine").mkdir(mode=0o700)
        name.symlink_to(safe_dir / "mine")
    elif squat == "file":
        name.write_bytes(b"")
    elif squat == "parent_not_sticky":
        shm.chmod(0o777)
    else:
        shm.rmdir()
        (safe_dir / "real-shm").mkdir(mode=0o1777)
        shm.symlink_to(safe_dir / "real-shm")
    opened = cache.open_cache(trace)
    assert opened is not None and opened[1] == str(safe_dir / ".cache" / "pyoxidizer-ssl")
    cache.close(opened)
    assert "cache.refused" in trace.step_keys()
    assert str(name) in trace.step("cache.refused")


def test_a_miss_in_dev_shm_publishes_at_once(cache, trace, shm, decision):
    """Memory: no marker first (unlike ~/.cache); the second run hits."""
    from pyoxidizer_ssl_bootstrap import _plan

    first = _plan.build(decision, trace)
    assert isinstance(first.private, cache.Entry) and "cache.published" in trace.step_keys()
    assert "(in memory)" in trace.step("cache.published")
    assert first.private.real_path.startswith(str(shm) + "/")
    assert not first.private.exportable()  # a sticky /dev/shm: export_env keeps out of it
    second = _plan.build(decision, trace)
    assert isinstance(second.private, cache.Entry) and "cache.hit" in trace.step_keys()


@pytest.mark.parametrize(
    "names",
    [
        ["0d2a4c1e.0"],
        ["0d2a4c1e.0", "0d2a4c1e.12", "ffffffff.3"],
        ["0d2a4c1e.0", "0D2A4C1E.1"],
        ["0d2a4c1e.0", "0d2a4c1e."],
        ["0d2a4c1e.0", "0d2a4c1e"],
        ["0d2a4c1e.0", "0d2a4c1e0"],
        ["0d2a4c1e.0", "0d2a.c1e.0"],
        ["0d2a4c1e.0", "0d2a4c1e.0a"],
        ["0d2a4c1e.0", "0d2a4c1e.0.pem"],
        ["0d2a4c1e.0", "0d2a4c1e1.0"],
        ["0d2a4c1e.0", "../../etc.1"],
        ["0d2a4c1e.0", "0d2a4c1g.0"],
        ["0d2a4c1e.0", ""],
        ["x.0", "0d2a4c1e.0" + "0" * 8],
    ],
)
def test_index_names_are_checked_each_as_is_file_name_says(cache, names):
    """The INDEX's names are checked all at once (a hit's cost); exactly as one by one."""
    expected = all(cache._is_file_name(n) for n in names)
    assert cache._all_file_names(names) == expected
    entry = "e-" + "4" * 40
    files = [(n, b"x") for n in names]
    text = publishing().render_index(entry, files, "b00t")
    parsed = cache.parse_index(text, entry)
    assert (parsed is not None) == expected


def test_a_known_identity_whose_entry_is_gone_is_published_again(
    cache, trace, bundle_file, monkeypatch
):
    """The identity names an entry evicted (or refused) since: the bundle is hashed, the key is
    the same, it is looked up once (one miss in the trace), published and remembered again."""
    from pyoxidizer_ssl_bootstrap import _plan

    _later(monkeypatch)
    first = _plan.build(bundle_file(trace), trace)
    shutil.rmtree(first.private.real_path)
    again = trace.__class__()
    second = _plan.build(bundle_file(again), again)
    keys = again.step_keys()
    assert keys.count("cache.miss") == 1 and "cache.identity_known" in keys
    assert "cache.published" in keys and "cache.identity_remembered" in keys
    assert second.private.real_path == first.private.real_path and second.private.intact()
