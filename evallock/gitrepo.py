"""The git repository around a project: discovery, revisions and the index."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

import git

from evallock.errors import GitError

CONFIG_NAME = ".evallock.toml"
LOCK_NAME = "eval.lock"


@dataclass
class Project:
    """A folder with ``.evallock.toml`` inside a git repository.

    ``root`` is the project folder; ``prefix`` is its path relative to the
    repository's top level ("" when they are the same), which git revision
    paths need.
    """

    root: str
    repo: git.Repo

    @property
    def top(self) -> str:
        return os.path.realpath(str(self.repo.working_tree_dir))

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
        return os.path.join(self.repo.common_dir, "evallock")

    def repo_path(self, relative: str) -> str:
        """Return a project-relative path as a path from the repository top."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    @property
    def is_shallow(self) -> bool:
        return os.path.exists(os.path.join(self.repo.common_dir, "shallow"))

    def head_commit(self) -> str | None:
        try:
            return self.repo.head.commit.hexsha
        except ValueError:
            return None

    def read_at_revision(self, revision: str, relative: str) -> bytes | None:
        """Return a project file's bytes at *revision*, or None if it is absent there."""
        commit = self.resolve_commit(revision)
        try:
            blob = commit.tree / self.repo_path(relative)
        except KeyError:
            return None
        data: bytes = blob.data_stream.read()
        return data

    def resolve_commit(self, revision: str) -> git.Commit:
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


def open_repo(start: str) -> git.Repo:
    try:
        return git.Repo(start, search_parent_directories=True)
    except git.InvalidGitRepositoryError:
        raise GitError(
            f"{os.path.abspath(start)} is not inside a git repository; run "
            "`git init` first, because evallock stores locks and results in git"
        ) from None
    except git.NoSuchPathError:
        raise GitError(f"folder {start} does not exist") from None


def find_project(start: str, require_config: bool = True) -> Project:
    """Find the nearest folder at or above *start* that holds ``.evallock.toml``."""
    repo = open_repo(start)
    if repo.bare or repo.working_tree_dir is None:
        raise GitError(f"{repo.git_dir} is a bare repository; run evallock in a clone")
    top = os.path.realpath(str(repo.working_tree_dir))
    folder = os.path.realpath(start)
    while True:
        if os.path.isfile(os.path.join(folder, CONFIG_NAME)):
            return Project(folder, repo)
        if folder == top or os.path.dirname(folder) == folder:
            break
        folder = os.path.dirname(folder)
    if require_config:
        raise GitError(
            f"no {CONFIG_NAME} found in {os.path.realpath(start)} or its parents up "
            "to the repository top; run `evallock init` to create one"
        )
    return Project(os.path.realpath(start), repo)
