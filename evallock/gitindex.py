"""Reading the git index: staged paths, their blobs, and which differ from disk.

Everything here runs ``git`` itself rather than parsing ``.git/index``.
During ``git commit -a`` or ``git commit <paths>``, git points hooks at a
temporary index through ``GIT_INDEX_FILE``, which a child ``git`` inherits.
Git also reads split and sparse indexes, which a parser would have to
re-implement.
"""

from __future__ import annotations

import atexit
import os
import re
import subprocess
from typing import NamedTuple

from evallock.errors import GitError
from evallock.gitrepo import Project

SYMLINK_MODE = "120000"
GITLINK_MODE = "160000"
# One `git ls-files --stage -z` record: mode, blob id, stage, tab, path.
LS_FILES_RECORD = re.compile(r"(\d+) ([0-9a-f]+) (\d)\t([^\0]*)\0")
# Symbolic links that point at further links are followed this many times.
MAX_LINK_HOPS = 40


class IndexEntry(NamedTuple):
    """One stage-0 entry: file mode (octal text, as git prints it) and blob id (hex).

    A tuple rather than a dataclass because an index contains tens of thousands
    of entries and building them is most of the cost of reading one.
    """

    mode: str
    sha: str

    @property
    def is_symlink(self) -> bool:
        return self.mode == SYMLINK_MODE


def run_git(project: Project, *args: str, data: bytes | None = None) -> bytes:
    """Run git in the repository top and return stdout; raise GitError on failure."""
    # Hooks run while `git commit` holds the index lock; optional locks off
    # keeps `git status` from refreshing and rewriting the index under it.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=project.top,
            env=env,
            input=data,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH; install git") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise GitError(f"`git {' '.join(args)}` failed: {message}")
    return done.stdout


# The last index read, with the Project it was read for and the value of
# GIT_INDEX_FILE, so that the config, the lock and the inputs of one command
# share a single `git ls-files`. Each command builds its own Project, so an
# index changed between two commands in one process is read afresh.
_last_read: tuple[object, str | None, dict[str, IndexEntry]] | None = None


def read_index(project: Project) -> dict[str, IndexEntry]:
    """Return the project's staged entries keyed by project-relative path.

    Unmerged paths (stages 1 to 3) and submodules are left out: git refuses
    to commit the former, and the latter are folders, not files.
    """
    global _last_read
    index_file = os.environ.get("GIT_INDEX_FILE")
    if (
        _last_read is not None
        and _last_read[0] is project
        and _last_read[1] == index_file
    ):
        return _last_read[2]
    entries = _list_index(project)
    _last_read = (project, index_file, entries)
    return entries


def read_staged(project: Project, relative: str) -> bytes | None:
    """Return the staged bytes of project file *relative*, or None if not staged."""
    entry = read_index(project).get(relative)
    return None if entry is None else read_blob(project, entry.sha)


def _list_index(project: Project) -> dict[str, IndexEntry]:
    prefix = f"{project.prefix}/" if project.prefix else ""
    pathspec = [prefix] if prefix else []
    output = run_git(project, "ls-files", "--stage", "-z", "--", *pathspec)
    text = output.decode("utf-8", "surrogateescape")
    start = len(prefix)
    return {
        path[start:]: IndexEntry(mode, sha)
        for mode, sha, stage, path in LS_FILES_RECORD.findall(text)
        if stage == "0" and mode != GITLINK_MODE
    }


class BlobReader:
    """One long-lived ``git cat-file --batch`` process that returns blob bytes."""

    def __init__(self, top: str) -> None:
        self.top = top
        self.process: subprocess.Popen[bytes] | None = None

    def read(self, sha: str) -> bytes:
        if self.process is None:
            self.process = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.top,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(sha.encode() + b"\n")
        self.process.stdin.flush()
        header = self.process.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            raise GitError(
                f"blob {sha} is missing from the git object database; run "
                "`git fsck` to check the repository"
            )
        data = self.process.stdout.read(int(header[2]))
        self.process.stdout.read(1)  # the newline after the content
        return data

    def close(self) -> None:
        if self.process is not None:
            self.process.communicate()
            self.process = None


_readers: dict[str, BlobReader] = {}


@atexit.register
def _close_readers() -> None:
    for reader in _readers.values():
        reader.close()


def read_blob(project: Project, sha: str) -> bytes:
    """Return a blob's raw bytes."""
    reader = _readers.setdefault(project.top, BlobReader(project.top))
    return reader.read(sha)


def read_blob_for_checkout(project: Project, sha: str, repo_path: str) -> bytes:
    """Return a blob as ``git checkout`` would write it at *repo_path*.

    This applies the path's end-of-line conversion and smudge filters (Git
    LFS among them), so the bytes match what a fresh clone would hash.
    """
    return run_git(project, "cat-file", "--filters", f"--path={repo_path}", sha)


def paths_differing_from_disk(project: Project, paths: list[str]) -> set[str]:
    """Return those of *paths* whose working-tree file differs from the index.

    Deleted files count as differing. Untracked files are not listed here.
    """
    if not paths:
        return set()
    repo_paths = [project.repo_path(path) for path in paths]
    output = run_git(
        project, "diff", "--name-only", "--no-renames", "-z", "--", *repo_paths
    )
    prefix = f"{project.prefix}/" if project.prefix else ""
    return {os.fsdecode(raw)[len(prefix) :] for raw in output.split(b"\0") if raw}


def paths_differing_from_head(project: Project, paths: list[str]) -> set[str]:
    """Return those tracked project-relative *paths* that the index or disk changes."""
    repo_paths = [project.repo_path(path) for path in paths]
    output = run_git(
        project,
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=no",
        "--no-renames",
        "--",
        *repo_paths,
    )
    prefix = f"{project.prefix}/" if project.prefix else ""
    return {
        os.fsdecode(record[3:])[len(prefix) :]
        for record in output.split(b"\0")
        if record
    }


def in_head(project: Project, relative: str) -> bool:
    """Return whether HEAD has the project file *relative* (False with no HEAD)."""
    done = subprocess.run(
        ["git", "cat-file", "-e", f"HEAD:{project.repo_path(relative)}"],
        cwd=project.top,
        capture_output=True,
    )
    return done.returncode == 0


# Attributes under which a checkout's bytes may differ from the blob's.
CONVERSION_ATTRIBUTES = ("text", "eol", "filter", "ident", "working-tree-encoding")
INERT_VALUES = {b"unspecified", b"unset"}


def checkout_conversions(project: Project, relative_paths: list[str]) -> dict[str, str]:
    """Return, per project-relative path, a tag naming the checkout conversion.

    The tag is "" when a checkout writes the blob's bytes unchanged, which is
    the case for every path unless ``.gitattributes`` sets a conversion
    attribute or ``core.autocrlf`` is true. The check is deliberately broader
    than git's own rules: a path tagged as converting is only read through
    git's filters, which costs time but is never wrong.
    """
    if not relative_paths:
        return {}
    autocrlf = _autocrlf(project)
    stdin = b"".join(os.fsencode(project.repo_path(p)) + b"\0" for p in relative_paths)
    output = run_git(
        project, "check-attr", "-z", "--stdin", *CONVERSION_ATTRIBUTES, data=stdin
    )
    fields = output.split(b"\0")
    tags: dict[str, list[str]] = {path: [] for path in relative_paths}
    by_repo_path = {project.repo_path(p): p for p in relative_paths}
    for index in range(0, len(fields) - 2, 3):
        path, attribute, value = fields[index : index + 3]
        relative = by_repo_path.get(os.fsdecode(path))
        if relative is not None and value not in INERT_VALUES:
            tags[relative].append(f"{attribute.decode()}={value.decode()}")
    return {
        path: ";".join(parts + (["core.autocrlf=true"] if autocrlf else []))
        for path, parts in tags.items()
    }


def _autocrlf(project: Project) -> bool:
    try:
        value = run_git(project, "config", "--get", "core.autocrlf")
    except GitError:
        return False  # unset
    return value.strip().lower() in (b"true", b"yes", b"on", b"1")
