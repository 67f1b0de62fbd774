"""Stored runs rewritten by hand, as a hostile remote or another tool could."""

from __future__ import annotations

import subprocess
from pathlib import Path

from evallock import store


def _git(root: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, input=stdin, capture_output=True, check=True
    )
    return done.stdout.decode().strip()


def replace_tip_files(
    root: Path, files: dict[str, bytes | None], message: str | None = None
) -> str:
    """Rewrite the newest stored run with *files* changed; return the new commit.

    A value of None removes that file from the run's tree. The new commit
    replaces the tip, with the same parent, and keeps the commit message
    unless *message* is given.
    """
    tip = _git(root, "rev-parse", store.RESULTS_REF)
    entries = {}
    for line in _git(root, "ls-tree", tip).splitlines():
        meta, name = line.split("\t", 1)
        entries[name] = meta
    for name, data in files.items():
        if data is None:
            entries.pop(name, None)
            continue
        blob = _git(root, "hash-object", "-w", "--stdin", stdin=data)
        entries[name] = f"100644 blob {blob}"
    spec = "".join(f"{meta}\t{name}\n" for name, meta in sorted(entries.items()))
    tree = _git(root, "mktree", stdin=spec.encode())
    body = (
        message if message is not None else _git(root, "log", "-1", "--format=%B", tip)
    )
    parents = _git(root, "log", "-1", "--format=%P", tip).split()
    parent_args = [arg for parent in parents for arg in ("-p", parent)]
    commit = _git(root, "commit-tree", tree, *parent_args, stdin=body.encode())
    _git(root, "update-ref", store.RESULTS_REF, commit)
    return commit
