"""The git repository around a project: discovery, revisions and the index."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from evallock.errors import GitError

if TYPE_CHECKING:
    import git

CONFIG_NAME = ".evallock.toml"
LOCK_NAME = "eval.lock"


@dataclass
class Project:
    """A folder with ``.evallock.toml`` inside a git repository.

    ``root`` is the project folder; ``top`` the repository's working tree;
    ``prefix`` is the project's path relative to ``top`` ("" when they are the
    same), which git revision paths need. ``common_dir`` is the ``.git``
    folder shared by all worktrees.
    """

    root: str
    top: str
    common_dir: str

    @cached_property
    def repo(self) -> git.Repo:
        # GitPython takes longer to import than `lock` takes to hash a small
        # project, so commands that never read history do not load it.
        import git

        return git.Repo(self.top)

    @property
    def prefix(self) -> str:
        relative = os.path.relpath(self.root, self.top)
        return "" if relative == "." else relative.replace(os.sep, "/")

    @property
    def config_path(self) -> str:
        return os.path.join(self.root, CONFIG_NAME)

    @property
    def lock_path(self) -> str:
        return os.path.join(self.root, LOCK_NAME)

    @cached_property
    def private_dir(self) -> str:
        """``.git/evallock``: caches that belong to this clone and are never shared."""
        return os.path.join(self.common_dir, "evallock")

    def repo_path(self, relative: str) -> str:
        """Return a project-relative path as a path from the repository top."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    @property
    def is_shallow(self) -> bool:
        return os.path.exists(os.path.join(self.common_dir, "shallow"))

    def head_commit(self) -> str | None:
        try:
            return self.repo.head.commit.hexsha
        except ValueError:
            return None

    def read_at_revision(self, revision: str, relative: str) -> bytes | None:
        """Return a project file's bytes at *revision*, or None if it is absent."""
        commit = self.resolve_commit(revision)
        try:
            blob = commit.tree / self.repo_path(relative)
        except KeyError:
            return None
        data: bytes = blob.data_stream.read()
        return data

    def resolve_commit(self, revision: str) -> git.Commit:
        import git

        try:
            commit = self.repo.commit(revision)
        except (git.BadName, ValueError, git.GitCommandError):
            if self.is_shallow:
                raise GitError(
                    f"revision {revision!r} is not in this clone's history because "
                    "the clone is shallow; run `git fetch --unshallow` (or "
                    "`git fetch --depth=N`) and retry"
                ) from None
            if self.head_commit() is None:
                raise GitError(
                    f"revision {revision!r} does not exist because the repository "
                    "has no commits yet; commit first"
                ) from None
            raise GitError(
                f"revision {revision!r} is not a commit in this repository; check "
                "the name with `git log --oneline`"
            ) from None
        return commit

    def require_history(self, command: str) -> None:
        """Reject commands that read history in a shallow clone."""
        if self.is_shallow:
            raise GitError(
                f"`evallock {command}` needs git history but this clone is shallow; "
                "run `git fetch --unshallow` and `git fetch origin "
                "'refs/evallock/*:refs/evallock/*'`, then retry"
            )


def locate(start: str) -> tuple[str, str]:
    """Return the working tree top and the common ``.git`` folder around *start*.

    One ``git rev-parse`` call answers this in a few milliseconds and applies
    git's own rules (``GIT_DIR``, worktrees, ``safe.directory``).
    """
    if not os.path.isdir(start):
        raise GitError(f"folder {start} does not exist")
    folder = os.path.realpath(start)
    try:
        done = subprocess.run(
            [
                "git",
                "rev-parse",
                "--is-bare-repository",
                "--git-common-dir",
                "--show-toplevel",
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH; install git") from None
    lines = done.stdout.splitlines()
    if not lines:
        raise GitError(
            f"{folder} is not inside a git repository; run `git init` first, "
            "because evallock stores locks and results in git"
        )
    common = os.path.join(folder, lines[1]) if len(lines) > 1 else folder
    if lines[0] == "true":
        raise GitError(f"{common} is a bare repository; run evallock in a clone")
    if done.returncode != 0 or len(lines) < 3:
        raise GitError(
            f"{folder} is not in a git working tree ({done.stderr.strip()}); run "
            "evallock in the working tree of a clone"
        )
    return os.path.realpath(lines[2]), os.path.realpath(common)


def open_repo(start: str) -> git.Repo:
    import git

    top, _ = locate(start)
    return git.Repo(top)


def find_project(start: str, require_config: bool = True) -> Project:
    """Find the nearest folder at or above *start* that holds ``.evallock.toml``."""
    top, common_dir = locate(start)
    folder = os.path.realpath(start)
    while True:
        if os.path.isfile(os.path.join(folder, CONFIG_NAME)):
            return Project(folder, top, common_dir)
        if folder == top or os.path.dirname(folder) == folder:
            break
        folder = os.path.dirname(folder)
    if require_config:
        raise GitError(
            f"no {CONFIG_NAME} found in {os.path.realpath(start)} or its parents up "
            "to the repository top; run `evallock init` to create one"
        )
    return Project(os.path.realpath(start), top, common_dir)
