"""The fix for drift between the staged inputs and the staged ``eval.lock``.

``evallock lock`` hashes the working tree, but a commit records the index.
When the two differ for a drifted file, "run ``evallock lock``" would lock
the wrong bytes, so the advice depends on each file's staging state:

- a file with unstaged changes (partially staged, or edited after ``git
  add``) needs the whole file staged first, or its unstaged part set aside
  with ``git stash push --keep-index`` while locking and committing;
- a locked file that exists on disk but is not in the index needs ``git add``;
- when the working tree's ``eval.lock`` already matches the staged inputs,
  only ``git add eval.lock`` is missing.

Paths in the commands are relative to the current folder, where the user
will paste them.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evallock import fingerprint, gitindex, lockfile
from evallock.drift import Change, compare_locks
from evallock.errors import LockfileError
from evallock.gitrepo import CONFIG_NAME, LOCK_NAME, Project

# Components whose paths are project files read through the index.
FILE_COMPONENTS = ("prompts", "datasets", "scorer")


@dataclass(frozen=True)
class Advice:
    """The command that accepts the staged changes, and notes that qualify it."""

    fix: str
    notes: list[str] = field(default_factory=list)


def _shown(project: Project, relative: str) -> str:
    path = os.path.relpath(os.path.join(project.root, relative))
    return shlex.quote(path.replace(os.sep, "/"))


def lock_command(project: Project) -> str:
    """Return ``evallock lock``, with ``-C`` when run outside the project folder."""
    if os.path.realpath(os.getcwd()) == project.root:
        return "evallock lock"
    return f"evallock -C {_shown(project, '.')} lock"


def changed_files(changes: Sequence[Change]) -> list[str]:
    paths = (c.path for c in changes if c.component in FILE_COMPONENTS and c.path)
    return list(dict.fromkeys(paths))


def _worktree_lock_matches(project: Project, staged_inputs: dict[str, Any]) -> bool:
    try:
        worktree_lock = lockfile.read(project.lock_path)
    except LockfileError:
        return False
    if worktree_lock is None:
        return False
    components = fingerprint.INPUT_COMPONENTS
    return not compare_locks(worktree_lock, staged_inputs, components)


def _set_aside_recipe(project: Project) -> str:
    """Return commands that lock and commit only what is staged."""
    lock = _shown(project, LOCK_NAME)
    reset = ""
    if gitindex.paths_differing_from_head(project, [LOCK_NAME]):
        if gitindex.in_head(project, LOCK_NAME):
            reset = f"git checkout HEAD -- {lock} && "
        else:
            reset = f"git rm -q --cached {lock} && "
    return (
        f"`{reset}git stash push --keep-index && {lock_command(project)} && "
        f"git add {lock} && git commit`, then `git stash pop`"
    )


def advise(
    project: Project, changes: Sequence[Change], staged_inputs: dict[str, Any]
) -> Advice:
    """Return how to accept *changes* between the staged inputs and the staged lock."""
    lock = _shown(project, LOCK_NAME)
    if _worktree_lock_matches(project, staged_inputs):
        note = f"{lock} in the working tree already matches the staged inputs"
        return Advice(f"git add {lock}", [note])
    entries = gitindex.read_index(project)
    files = changed_files(changes)
    staged = [path for path in [*files, CONFIG_NAME] if path in entries]
    unstaged = sorted(gitindex.paths_differing_from_disk(project, staged))
    untracked = [
        path
        for path in files
        if path not in entries and os.path.isfile(os.path.join(project.root, path))
    ]
    relock = f"{lock_command(project)} && git add {lock}"
    if not unstaged and not untracked:
        return Advice(relock)
    names = " ".join(_shown(project, path) for path in [*untracked, *unstaged])
    notes = []
    if untracked:
        shown = " ".join(_shown(project, path) for path in untracked)
        notes.append(f"{shown} is locked from the working tree but not staged")
    if unstaged:
        shown = " ".join(_shown(project, path) for path in unstaged)
        notes.append(
            f"{shown} has unstaged changes, and `evallock lock` hashes the working "
            "tree, so the fix above stages the whole file; to commit only the "
            f"staged part instead, run {_set_aside_recipe(project)}"
        )
    return Advice(f"git add {names} && {relock}", notes)
