import os
from pathlib import Path

import pytest
from helpers.project import make_project

from evallock.errors import InputError
from evallock.gitrepo import find_project
from evallock.inputs.source import WorkTree
from evallock.statcache import StatCache


def _tree(root: Path) -> WorkTree:
    return WorkTree(find_project(str(root)), StatCache(None))


def test_real_path_matches_os_realpath(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    (root / "linked").symlink_to(root / "prompts")
    (root / "prompts" / "alias.txt").symlink_to(root / "prompts" / "system.txt")
    tree = _tree(root)
    for relative in (
        "prompts/system.txt",
        "linked/system.txt",
        "prompts/alias.txt",
        "prompts/missing.txt",
    ):
        expected = os.path.realpath(root / relative)
        assert tree.real_path(relative) == expected, relative


def test_stat_reused_matches_os_stat(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    tree = _tree(root)
    tree.glob("prompts/*.txt")
    info = tree.stat("prompts/system.txt")
    expected = os.stat(root / "prompts" / "system.txt")
    assert (info.st_ino, info.st_size, info.st_mtime_ns) == (
        expected.st_ino,
        expected.st_size,
        expected.st_mtime_ns,
    )


def test_stat_link_outside_repo_rejected(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (root / "prompts" / "leak.txt").symlink_to(outside)
    with pytest.raises(InputError, match="outside the repository"):
        _tree(root).stat("prompts/leak.txt")


def test_glob_skips_folders(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    (root / "prompts" / "folder.txt").mkdir()
    assert "prompts/folder.txt" not in _tree(root).glob("prompts/*.txt")
