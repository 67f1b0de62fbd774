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
import posixpath
import stat as statlib
import sys
from typing import Any

from evallock import gitindex
from evallock.errors import InputError
from evallock.gitindex import IndexEntry
from evallock.gitrepo import Project
from evallock.hashing import describe_text, digest_bytes, digest_file, open_checked
from evallock.inputs.globs import glob_regex, literal_prefix
from evallock.statcache import StatCache, now_ns

# Prompt, template and scorer files are read whole; a larger one is a mistake.
MAX_TEXT_BYTES = 16 * 1024 * 1024


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
        self._real_paths: dict[str, str] = {}
        self._real_folders: dict[str, str] = {}
        self._lstats: dict[str, os.stat_result | None] = {}
        self._root_prefix = os.path.join(project.root, "")

    def absolute(self, relative: str) -> str:
        # The same as os.path.join(root, relative), which is slow enough to
        # show in a profile of `verify` over 10,000 files.
        if relative.startswith(os.sep):
            return relative
        return self._root_prefix + relative

    def real_path(self, relative: str) -> str:
        """Return ``os.path.realpath`` of a project file, resolving each folder once.

        ``realpath`` checks every component of the path with ``lstat``; for
        10,000 prompt files in one folder that costs more than the rest of
        ``verify``. A file that is not itself a link resolves to its folder's
        real path plus its name.
        """
        known = self._real_paths.get(relative)
        if known is not None:
            return known
        path = self.absolute(relative)
        folder, name = os.path.split(path)
        real_folder = self._real_folders.get(folder)
        if real_folder is None:
            real_folder = self._real_folders[folder] = os.path.realpath(folder)
        info = self._lstat(relative)
        # A missing file goes through realpath too, as before.
        is_link = info is None or statlib.S_ISLNK(info.st_mode)
        real = os.path.realpath(path) if is_link else os.path.join(real_folder, name)
        self._real_paths[relative] = real
        return real

    def _inside_repo(self, relative: str) -> str:
        path = self.absolute(relative)
        real = self.real_path(relative)
        if real != self.top and not real.startswith(self.top + os.sep):
            if os.path.lexists(path) and os.path.exists(real):
                raise InputError(
                    f"{relative} is a symbolic link to {real}, outside the "
                    "repository; copy the file into the repository instead"
                )
        return path

    def glob(self, pattern: str) -> list[str]:
        normal = check_relative(pattern, "prompts pattern")
        found = globlib.glob(normal, root_dir=self.project.root, recursive=True)
        # glob returns "file/" for "file/**" (Python 3.11); a trailing slash
        # names a folder, so such a result is never a file match.
        files = {
            os.path.normpath(p).replace(os.sep, "/")
            for p in found
            if not p.endswith(os.sep)
        }
        return sorted(p for p in files if not self._is_dir(p))

    def _lstat(self, relative: str) -> os.stat_result | None:
        """Return ``os.lstat`` of a project file, once per command (None if missing).

        glob(), real_path() and stat() all need it, so each file costs one
        system call instead of three. Results live as long as this object,
        which serves one command.
        """
        if relative not in self._lstats:
            try:
                self._lstats[relative] = os.lstat(self.absolute(relative))
            except OSError:
                self._lstats[relative] = None
        return self._lstats[relative]

    def _is_dir(self, relative: str) -> bool:
        info = self._lstat(relative)
        if info is not None and not statlib.S_ISLNK(info.st_mode):
            return statlib.S_ISDIR(info.st_mode)
        return os.path.isdir(self.absolute(relative))

    def exists(self, relative: str) -> bool:
        return os.path.lexists(self.absolute(relative))

    def stat(self, relative: str) -> os.stat_result:
        path = self._inside_repo(relative)
        known = self._lstat(relative)
        if known is not None and statlib.S_ISREG(known.st_mode):
            return known  # not a link, so stat() would return the same
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
        key = f"{kind}:{self.real_path(relative)}"
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
    """Input files as staged in the git index, as a checkout would write them.

    Files that the index does not hold, and that HEAD does not hold either,
    are read from the working tree: a checkpoint or a large dataset is often
    kept out of git on purpose. A file in HEAD but not in the index is
    being deleted by the commit, so it does not exist here.

    Digests are cached by blob id, which never goes stale, so a commit that
    touches no locked input reads no file content at all.
    """

    staged = True

    def __init__(
        self,
        project: Project,
        cache: StatCache,
        entries: dict[str, IndexEntry] | None = None,
    ) -> None:
        super().__init__(project, cache)
        self.entries = gitindex.read_index(project) if entries is None else entries
        self._conversions: dict[str, str] = {}
        # Paths seen by glob() and exists(), whose attributes are looked up
        # together in one `git check-attr` call when the first one is read.
        self._seen: dict[str, None] = {}

    def glob(self, pattern: str) -> list[str]:
        normal = check_relative(pattern, "prompts pattern")
        compiled = glob_regex(normal)
        prefix = literal_prefix(normal)
        found = sorted(
            path
            for path in self.entries
            if path.startswith(prefix) and compiled.fullmatch(path)
        )
        self._seen.update(dict.fromkeys(found))
        return found

    def exists(self, relative: str) -> bool:
        if relative in self.entries:
            self._seen[relative] = None
            return True
        if gitindex.in_head(self.project, relative):
            return False  # staged for deletion
        return super().exists(relative)

    def resolve(self, relative: str) -> tuple[str, IndexEntry] | None:
        """Return the staged file behind *relative*, following staged symbolic links.

        Returns None for a path that is not in the index, or a link whose
        target lies outside the project: those are read from the working tree.
        """
        path = relative
        for _ in range(gitindex.MAX_LINK_HOPS):
            entry = self.entries.get(path)
            if entry is None:
                return None
            if not entry.is_symlink:
                return path, entry
            target = os.fsdecode(gitindex.read_blob(self.project, entry.sha))
            if target.startswith("/"):
                return None
            path = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            if path == ".." or path.startswith("../"):
                return None
        raise InputError(
            f"{relative} is a symbolic link loop in the git index; point the link "
            "at a real file"
        )

    def _conversion(self, relative: str) -> str:
        if relative not in self._conversions:
            pending = [p for p in self._seen if p not in self._conversions]
            batch = list(dict.fromkeys([*pending, relative]))
            self._conversions.update(gitindex.checkout_conversions(self.project, batch))
        return self._conversions[relative]

    def _staged_bytes(self, path: str, entry: IndexEntry) -> bytes:
        if self._conversion(path):
            repo_path = self.project.repo_path(path)
            return gitindex.read_blob_for_checkout(self.project, entry.sha, repo_path)
        return gitindex.read_blob(self.project, entry.sha)

    def read(self, relative: str, limit: int = MAX_TEXT_BYTES) -> bytes:
        found = self.resolve(relative)
        if found is None:
            return super().read(relative, limit)
        data = self._staged_bytes(*found)
        if len(data) > limit:
            raise InputError(
                f"{relative} is {len(data)} bytes as staged, over the {limit}-byte "
                "limit for this kind of file; check that the path is right"
            )
        return data

    def cached(self, kind: str, relative: str, compute: Any) -> Any:
        found = self.resolve(relative)
        if found is None:
            return super().cached(kind, relative, compute)
        path, entry = found
        conversion = self._conversion(path)
        key = f"{kind}:blob:{entry.sha}" + (f":{conversion}" if conversion else "")
        fact = self.cache.get_blob(key)
        if fact is None:
            fact = compute(relative)
            self.cache.put_blob(key, fact)
        return fact

    def file_digest(self, relative: str) -> str:
        if self.resolve(relative) is None:
            return super().file_digest(relative)
        return self.cached(  # type: ignore[no-any-return]
            "raw", relative, lambda rel: digest_bytes(self.read(rel, sys.maxsize))
        )
