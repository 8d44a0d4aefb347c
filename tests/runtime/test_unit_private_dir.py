"""The private directory, in process and without root: modes, naming, healing, cleanup."""

from __future__ import annotations

import os
import stat
import sys

import pytest

FILES = [("0d2a4c1e.0", b"first\n"), ("0d2a4c1e.1", b"second\n"), ("5f0b62ea.0", b"third\n")]


@pytest.fixture
def private(runtime, monkeypatch, tmp_path):
    """``_private_dir`` making its directories under tmp_path/parent (mode 0700, ours)."""
    from pyoxidizer_ssl_bootstrap import _platform, _private_dir

    parent = tmp_path / "parent"
    parent.mkdir(mode=0o700)
    monkeypatch.setattr(_platform, "TEMP_PARENTS", ("$TEST_PARENT",))
    monkeypatch.setenv("TEST_PARENT", str(parent))
    return _private_dir


def _made(private, trace):
    made = private.create(FILES, trace)
    assert made is not None, trace
    return made


def test_private_modes_and_fresh_names_even_under_umask_0(private, trace):
    old = os.umask(0)
    try:
        first, second = _made(private, trace), _made(private, trace)
    finally:
        os.umask(old)
    assert first.real_path != second.real_path
    assert stat.S_IMODE(os.stat(first.real_path).st_mode) == 0o700
    for name, data in FILES:
        path = os.path.join(first.real_path, name)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with open(path, "rb") as f:
            assert f.read() == data


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/fd is Linux's")
def test_contexts_get_a_path_that_names_the_descriptor(private, trace):
    made = _made(private, trace)
    assert made.path == f"/proc/self/fd/{made.fd}" and made.fd >= 512
    assert os.path.realpath(made.path) == made.real_path
    assert sorted(os.listdir(made.path)) == [name for name, _ in FILES]


def test_removed_directory_is_rebuilt_behind_the_same_path(private, trace):
    made = _made(private, trace)
    path, old = made.path, made.real_path
    for name, _ in FILES:
        os.unlink(os.path.join(old, name))
    os.rmdir(old)
    assert not made.intact()
    assert made.repair(trace)
    assert made.path == path and made.real_path != old
    assert sorted(os.listdir(path)) == [name for name, _ in FILES]
    assert made.intact()


def test_one_deleted_file_is_noticed(private, trace):
    made = _made(private, trace)
    assert made.intact()
    os.unlink(os.path.join(made.real_path, FILES[1][0]))  # within the same clock tick
    assert not made.intact()


def test_close_removes_it_and_nothing_else(private, trace, tmp_path):
    made = _made(private, trace)
    keep = tmp_path / "parent" / "someone-elses"
    keep.mkdir()
    made.close()
    assert not os.path.exists(made.real_path)
    assert keep.exists()


@pytest.mark.parametrize("mode", [0o777, 0o770])
def test_parent_writable_by_others_without_sticky_bit_is_refused(private, trace, tmp_path, mode):
    (tmp_path / "parent").chmod(mode)
    assert private.create(FILES, trace) is None
    refused = trace.step("private_dir.parent_refused")
    assert "writable by other users without the sticky bit" in refused  # the reason, named
    assert trace.step_keys()[-1] == "private_dir.none"
    assert os.listdir(tmp_path / "parent") == []


def test_sticky_world_writable_parent_is_accepted_but_not_exportable(private, trace, tmp_path):
    (tmp_path / "parent").chmod(0o1777)
    made = _made(private, trace)
    assert not made.exportable()  # the name could be taken once it is gone


def test_an_exported_chain_under_tmp_is_never_private(private, tmp_path):
    from pyoxidizer_ssl_bootstrap import _platform

    private_dir = tmp_path / "a" / "b"
    private_dir.mkdir(parents=True)
    # tmp_path itself lies under /tmp (sticky, world-writable): never a private chain.
    assert _platform.chain_open_to_others(str(private_dir), _platform.EXPORTED)
    assert _platform.chain_open_to_others("/", _platform.EXPORTED) is None


def test_sweep_leaves_what_it_did_not_make(private, trace, tmp_path):
    """Only PREFIX + 16 hex digits, 0700, holding hash names: an unpacked sdist, a tempfile
    directory of the same prefix or a look-alike with other files are not ours to remove."""
    parent = tmp_path / "parent"
    old = 1_000_000_000  # 2001: long past the minute a run may take to set up
    kept = {
        "pyoxidizer-ssl-0.2.0": ("README.md", 0o755),
        "pyoxidizer-ssl-bench-k2j4h5": ("x", 0o700),
        "pyoxidizer-ssl-0123456789abcdef": ("notes.txt", 0o700),
        "pyoxidizer-ssl-fedcba9876543210": ("0d2a4c1e.0", 0o755),
    }
    for name, (entry, mode) in kept.items():
        (parent / name).mkdir(mode=mode)
        (parent / name / entry).write_text("mine\n")
        os.utime(parent / name, (old, old))
    stale = parent / "pyoxidizer-ssl-00112233aabbccdd"
    stale.mkdir(mode=0o700)
    (stale / "0d2a4c1e.0").write_text("left by a killed run\n")
    os.utime(stale, (old, old))
    made = _made(private, trace)
    left = sorted(os.listdir(parent))
    assert left == sorted([*kept, made.name])
    assert [m for k, m in trace.steps if k == "cleanup.stale_removed"] == [
        "private directory: removed 'pyoxidizer-ssl-00112233aabbccdd', left by an earlier run"
    ]


def test_a_link_swapped_in_after_mkdir_is_never_written_through(
    private, trace, tmp_path, monkeypatch
):
    """The new name is replaced by a link to another directory between mkdir and open."""
    decoy = tmp_path / "decoy"  # private to us, like ~/.ssh
    decoy.mkdir(mode=0o700)
    (decoy / "id_ed25519").write_text("secret\n")
    real_mkdir = os.mkdir

    def swap(name, mode=0o777, *, dir_fd=None):
        real_mkdir(name, mode, dir_fd=dir_fd)
        os.rename(name, name + ".moved", src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        os.symlink(str(decoy), name, dir_fd=dir_fd)

    monkeypatch.setattr(os, "mkdir", swap)
    assert private.create(FILES, trace) is None
    assert os.listdir(decoy) == ["id_ed25519"]


def test_temp_parent_reached_through_a_link_is_used_by_its_real_path(
    private, trace, tmp_path, monkeypatch
):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "parent")
    monkeypatch.setenv("TEST_PARENT", str(link))
    made = _made(private, trace)
    assert made.real_path.startswith(str(tmp_path / "parent") + os.sep)
    from pyoxidizer_ssl_bootstrap import _platform

    assert _platform.chain_open_to_others(str(link), _platform.EXPORTED)  # a link: never private


def test_without_a_high_descriptor_contexts_never_get_a_descriptor_path(
    private, trace, monkeypatch
):
    """Under a low `ulimit -n` the number would be reused soon: no /proc/self/fd path then."""
    from pyoxidizer_ssl_bootstrap import _platform

    monkeypatch.setattr(_platform, "HIGH_FD", 1 << 30)
    made = private.create(FILES, trace)
    assert made is None or not made.path.startswith("/proc/self/fd/")


def test_made_only_while_real_and_effective_ids_are_the_same(private, trace, monkeypatch):
    """During a temporary seteuid the directory would belong to another user: none is made."""
    monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)
    assert private.create(FILES, trace) is None
    assert trace.has("not made while the ids are temporarily changed or setuid")


def test_a_directory_contexts_cannot_read_through_its_path_is_noticed(private, trace, monkeypatch):
    """A sandbox or chroot hides it: intact() opens one file through the contexts' path."""
    made = _made(private, trace)
    assert made.intact()
    monkeypatch.setattr(made, "path", made.path + "-hidden")
    assert not made.intact()
    assert not made.repair(trace)
    assert trace.has("can no longer be read through that path")
    assert made in private._cleanup.live  # held, never closed: contexts may name it


def test_a_failed_rebuild_keeps_the_descriptor_open(private, trace, monkeypatch):
    made = _made(private, trace)
    fd, ident = made.fd, made.ident
    for name, _ in FILES:
        os.unlink(os.path.join(made.real_path, name))
    os.rmdir(made.real_path)
    monkeypatch.setattr(private, "create", lambda *args, **kwargs: None)
    assert not made.repair(trace)
    assert trace.has("rebuilding failed")
    info = os.fstat(fd)  # still ours, removed: nothing can be added to it
    assert (info.st_dev, info.st_ino) == ident and info.st_nlink == 0


def test_close_keeps_the_descriptor_contexts_may_name(private, trace):
    made = _made(private, trace)
    made.close()
    assert not os.path.exists(made.real_path)
    assert os.fstat(made.fd).st_nlink == 0  # open on the removed directory until the process ends
