"""Every link met on the way to a hashed entry's file, however deep (round 4, finding 3).

``_store_dir.way_open_to_others`` resolves a path as the kernel does and judges every directory
passed through, every link met and the directory holding each link and the file at the end.
In process, under tmp_path (root's, 0700, under the sticky /tmp); giving a link to another
user needs root. The real attack, with handshakes, is
test_attacks_round4.py::test_a_link_met_half_way_by_an_entry_of_a_candidate_directory.
"""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="another user's link needs root"
)


@pytest.fixture
def way(runtime):
    from pyoxidizer_ssl_bootstrap import _store_dir

    return lambda path: _store_dir.way_open_to_others(str(path), {})


@pytest.fixture
def store(tmp_path):
    """tmp_path/real/ca.pem (root's), tmp_path/shared (sticky, world-writable)."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "ca.pem").write_text("x")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared").chmod(0o1777)
    return tmp_path


def test_links_only_root_could_change_pass(way, store):
    (store / "alias").symlink_to("real")
    (store / "entry").symlink_to(store / "alias" / ".." / "alias" / "ca.pem")
    assert way(store / "entry") is None


def test_a_link_met_half_way_is_seen(way, store):
    """entry -> foo/ca.pem, foo -> shared/hop (root's links), hop -> real (another user's):
    the path as written and the real path hold only root's; the hop is what is refused."""
    hop = store / "shared" / "hop"
    hop.symlink_to(store / "real")
    os.lchown(hop, 65534, 65534)
    (store / "foo").symlink_to(hop)
    (store / "entry").symlink_to(store / "foo" / "ca.pem")
    why = way(store / "entry")
    assert why is not None and repr(str(store / "shared")) in why
    os.lchown(hop, 0, 0)  # root's own link, still in a directory anyone may add to
    assert way(store / "entry") is not None
    (store / "shared").chmod(0o755)  # root's link in root's directory: nothing else can
    assert way(store / "entry") is None
    os.lchown(hop, 65534, 65534)
    assert "owned by uid 65534" in (way(store / "entry") or "")


def test_a_file_in_a_sticky_directory_is_refused(way, store):
    (store / "shared" / "ca.pem").write_text("x")  # root's: others may still add names there
    (store / "entry").symlink_to(store / "shared" / "ca.pem")
    assert "sticky" in (way(store / "entry") or "")


def test_a_link_loop_is_refused_not_followed_forever(way, store):
    (store / "a").symlink_to("b")
    (store / "b").symlink_to("a")
    assert "too many links" in (way(store / "a") or "")
