"""Where input bytes come from: the working tree, or the git index.

Both sources answer the same questions (which files match a pattern, what a
file's digest is, what its bytes are) so that ``verify`` and
``verify --staged`` share every other line. Paths are project-relative with
forward slashes. Files are refused when their path, or a symbolic link on
the way, leads outside the repository.
"""

from __future__ import annotations

import glob as globlib
import os
import re
import stat as statlib
from typing import Any

import git

from evallock.errors import InputError
from evallock.gitrepo import Project
from evallock.hashing import describe_text, digest_bytes, digest_file, open_checked
from evallock.statcache import StatCache, now_ns

# Prompt, template and scorer files are read whole; a larger one is a mistake.
MAX_TEXT_BYTES = 16 * 1024 * 1024


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a glob with ``glob.glob(recursive=True)`` semantics for index paths."""
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            parts.append("(?:[^/]+/)*")
            index += 3
        elif pattern.startswith("**", index):
            parts.append(".*")
            index += 2
        elif pattern[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            parts.append("[^/]")
            index += 1
        else:
            parts.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(parts))


def check_relative(path: str, shown_key: str) -> str:
    """Reject paths that are absolute or climb out with ``..``."""
    if os.path.isabs(path) or path.startswith("~"):
        raise InputError(
            f"{shown_key} = {path!r} is an absolute path; inputs must be inside the "
            "repository, so give a path relative to .evallock.toml"
        )
    normal = os.path.normpath(path).replace(os.sep, "/")
    if normal == ".." or normal.startswith("../"):
        raise InputError(
            f"{shown_key} = {path!r} leads outside the project through '..'; move "
            "the file into the repository"
        )
    return normal


class WorkTree:
    """Input files as they are on disk."""

    staged = False

    def __init__(self, project: Project, cache: StatCache) -> None:
        self.project = project
        self.cache = cache
        self.top = project.top

    def absolute(self, relative: str) -> str:
        return os.path.join(self.project.root, relative)

    def _inside_repo(self, relative: str) -> str:
        path = self.absolute(relative)
        real = os.path.realpath(path)
        if real != self.top and not real.startswith(self.top + os.sep):
            if os.path.lexists(path) and os.path.exists(real):
                raise InputError(
                    f"{relative} is a symbolic link to {real}, outside the "
                    "repository; copy the file into the repository instead"
                )
        return path

    def glob(self, pattern: str) -> list[str]:
        check_relative(pattern, "prompts pattern")
        found = globlib.glob(pattern, root_dir=self.project.root, recursive=True)
        files = [p.replace(os.sep, "/") for p in found if not self._is_dir(p)]
        return sorted(files)

    def _is_dir(self, relative: str) -> bool:
        return os.path.isdir(self.absolute(relative))

    def exists(self, relative: str) -> bool:
        return os.path.lexists(self.absolute(relative))

    def stat(self, relative: str) -> os.stat_result:
        path = self._inside_repo(relative)
        try:
            result = os.stat(path)
        except OSError:
            open_checked(path, relative)  # raises the precise error
            raise
        if not statlib.S_ISREG(result.st_mode):
            raise InputError(f"{relative} is not a regular file; point at a file")
        return result

    def read(self, relative: str, limit: int = MAX_TEXT_BYTES) -> bytes:
        info = self.stat(relative)
        if info.st_size > limit:
            raise InputError(
                f"{relative} is {info.st_size} bytes, over the {limit}-byte limit "
                "for this kind of file; check that the path is right"
            )
        fd = open_checked(self.absolute(relative), relative)
        with os.fdopen(fd, "rb") as stream:
            return stream.read()

    def cached(self, kind: str, relative: str, compute: Any) -> Any:
        """Return ``compute(bytes_reader)`` for a file, reusing the stat cache."""
        info = self.stat(relative)
        key = f"{kind}:{os.path.realpath(self.absolute(relative))}"
        fact = self.cache.get(key, info)
        if fact is None:
            started = now_ns()
            fact = compute(relative)
            self.cache.put(key, info, started, fact)
        return fact

    def text_facts(self, relative: str) -> dict[str, Any]:
        """Return digest, line endings and normalised digest of a text file."""
        return self.cached(  # type: ignore[no-any-return]
            "text", relative, lambda rel: describe_text(self.read(rel))
        )

    def file_digest(self, relative: str) -> str:
        return self.cached(  # type: ignore[no-any-return]
            "raw",
            relative,
            lambda rel: digest_file(self.absolute(rel), rel),
        )


class GitIndex(WorkTree):
    """Input files as staged in the git index; untracked files come from disk.

    A checkpoint is usually too large for git and lives outside it, so files
    the index does not hold are read from the working tree.
    """

    staged = True

    def __init__(self, project: Project, cache: StatCache) -> None:
        super().__init__(project, cache)
        self.entries: dict[str, str] = {}
        prefix = project.prefix + "/" if project.prefix else ""
        for (path, stage), entry in project.repo.index.entries.items():
            if stage == 0 and path.startswith(prefix):
                self.entries[path[len(prefix) :]] = entry.hexsha

    def glob(self, pattern: str) -> list[str]:
        check_relative(pattern, "prompts pattern")
        compiled = glob_regex(os.path.normpath(pattern).replace(os.sep, "/"))
        return sorted(p for p in self.entries if compiled.fullmatch(p))

    def exists(self, relative: str) -> bool:
        return relative in self.entries or super().exists(relative)

    def _blob(self, relative: str) -> bytes:
        sha = self.entries[relative]
        blob = git.Blob(self.project.repo, bytes.fromhex(sha))
        data: bytes = blob.data_stream.read()
        return data

    def read(self, relative: str, limit: int = MAX_TEXT_BYTES) -> bytes:
        if relative not in self.entries:
            return super().read(relative, limit)
        return self._blob(relative)

    def cached(self, kind: str, relative: str, compute: Any) -> Any:
        if relative not in self.entries:
            return super().cached(kind, relative, compute)
        key = f"{kind}:blob:{self.entries[relative]}"
        fact = self.cache.get_blob(key)
        if fact is None:
            fact = compute(relative)
            self.cache.put_blob(key, fact)
        return fact

    def file_digest(self, relative: str) -> str:
        if relative not in self.entries:
            return super().file_digest(relative)
        return self.cached(  # type: ignore[no-any-return]
            "raw", relative, lambda rel: digest_bytes(self._blob(rel))
        )
