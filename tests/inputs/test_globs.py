"""GitIndex.glob against glob.glob(recursive=True) on the same committed tree."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest
from helpers.project import git, make_project
from hypothesis import given, settings
from hypothesis import strategies as st

from evallock.gitrepo import find_project
from evallock.inputs.globs import glob_regex
from evallock.inputs.source import GitIndex, WorkTree
from evallock.statcache import StatCache

TREE = [
    "prompts/a.txt",
    "prompts/b.md",
    "prompts/.hidden.txt",
    "prompts/.dot/inside.txt",
    "prompts/fewshot/x1.txt",
    "prompts/fewshot/x2.txt",
    "prompts/fewshot/deep/x3.txt",
    "prompts/fewshot/deep/.x4.txt",
    "prompts/[lit].txt",
    "prompts/a**b.txt",
    "prompts/q?.txt",
    "prompts/dir.txt/child",
    "top.txt",
    ".top-hidden.txt",
]

PATTERNS = [
    "prompts/*.txt",
    "prompts/*",
    "prompts/**",
    "prompts/**/*.txt",
    "prompts/**/x*.txt",
    "**/*.txt",
    "**",
    "*",
    "**/deep/*",
    "prompts/.*",
    "prompts/.*/*",
    "prompts/.hidden.txt",
    "prompts/.dot/inside.txt",
    "prompts/fewshot/x?.txt",
    "prompts/fewshot/x[12].txt",
    "prompts/fewshot/x[!1].txt",
    "prompts/fewshot/x[2-3].txt",
    "prompts/fewshot/x[3-1].txt",
    "prompts/[[]lit].txt",
    "prompts/[lit].txt",
    "prompts/a**b.txt",
    "prompts/a*b.txt",
    "prompts/q[?].txt",
    "prompts/*/child",
    "prompts/**/deep/**",
    "prompts/**/**/x3.txt",
    "./prompts/a.txt",
    "prompts//a.txt",
    "prompts/fewshot/../a.txt",
    "prompts/[",
    "prompts/a.txt/**",
    "missing/*.txt",
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("globs") / "repo", commit=False)
    for relative in TREE:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(relative)
    git(root, "add", "-A")
    return root


def expected(root: Path, pattern: str) -> list[str]:
    """Files that glob.glob(recursive=True) returns, normalised like a lock key."""
    found = glob.glob(pattern, root_dir=root, recursive=True)
    # glob returns "file/" for "file/**"; a trailing slash never names a file.
    files = {
        os.path.normpath(p)
        for p in found
        if not p.endswith("/") and os.path.isfile(root / p)
    }
    return sorted(p for p in files if not p.startswith(".git/"))


@pytest.mark.parametrize("pattern", PATTERNS)
def test_glob_index_matches_glob_module(tree: Path, pattern: str) -> None:
    index = GitIndex(find_project(str(tree)), StatCache(None))
    assert index.glob(pattern) == expected(tree, pattern)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_glob_worktree_matches_glob_module(tree: Path, pattern: str) -> None:
    worktree = WorkTree(find_project(str(tree)), StatCache(None))
    assert worktree.glob(pattern) == expected(tree, pattern)


def test_glob_index_ignores_unstaged_files(tree: Path) -> None:
    extra = tree / "prompts" / "unstaged.txt"
    extra.write_text("not added")
    try:
        index = GitIndex(find_project(str(tree)), StatCache(None))
        assert "prompts/unstaged.txt" not in index.glob("prompts/*.txt")
    finally:
        extra.unlink()


COMPONENTS = st.sampled_from(
    [
        "*",
        "**",
        "?",
        "x*",
        "*.txt",
        ".*",
        "[ab]*",
        "[!.]*",
        "a",
        "b.md",
        "deep",
        "prompts",
        "fewshot",
        "x[0-9].txt",
    ]
)


@pytest.fixture(scope="module")
def staged_paths(tree: Path) -> list[str]:
    return git(tree, "ls-files").splitlines()


@settings(max_examples=150, deadline=None)
@given(st.lists(COMPONENTS, min_size=1, max_size=4))
def test_glob_regex_agrees_on_random_patterns(
    tree: Path, staged_paths: list[str], parts: list[str]
) -> None:
    pattern = "/".join(parts)
    paths = staged_paths
    compiled = glob_regex(pattern)
    assert sorted(p for p in paths if compiled.fullmatch(p)) == expected(tree, pattern)
