"""Computing, writing and checking locks: the core of lock, verify and diff."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from evallock import config as config_module
from evallock import fingerprint, gitindex, lockfile
from evallock.config import Config
from evallock.drift import Change, compare_locks, reformatted_datasets
from evallock.errors import ConfigError, LockfileError
from evallock.fsutil import exclusive_lock
from evallock.gitrepo import CONFIG_NAME, LOCK_NAME, Project
from evallock.hashing import digest_bytes
from evallock.inputs.source import GitIndex, WorkTree
from evallock.statcache import StatCache

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """Changes between a lock and the inputs, with what was checked."""

    changes: list[Change]
    reformatted: list[str] = field(default_factory=list)
    env_checked: bool = False
    cache_hits: int = 0
    cache_misses: int = 0
    lock: dict[str, Any] = field(default_factory=dict)
    previous: dict[str, Any] | None = None
    replaced_unreadable: str | None = None


def open_cache(project: Project) -> StatCache:
    """Open the project's stat cache in ``.git/evallock``.

    Each project folder of a repository has its own file, because saving
    prunes the entries that the saving project did not look up.
    """
    name = "statcache.json"
    if project.prefix:
        name = f"statcache-{digest_bytes(project.prefix.encode())[:16]}.json"
    return StatCache.load(os.path.join(project.private_dir, name))


def load_config(project: Project, staged: bool = False) -> Config:
    if not staged:
        return config_module.load(project.root)
    raw = gitindex.read_staged(project, CONFIG_NAME)
    if raw is None:
        raise ConfigError(
            f"{CONFIG_NAME} is not staged in the git index; run `git add {CONFIG_NAME}`"
        )
    text = config_module.decode_text(raw, CONFIG_NAME)
    return config_module.load_text(text, f"{CONFIG_NAME} (staged)")


def read_lock(project: Project, staged: bool = False) -> dict[str, Any]:
    """Return the committed-to-be lock, or raise if there is none."""
    if staged:
        raw = gitindex.read_staged(project, LOCK_NAME)
        if raw is None:
            fix = "" if os.path.exists(project.lock_path) else "evallock lock && "
            raise LockfileError(
                f"{LOCK_NAME} is not staged in the git index; run `{fix}"
                f"git add {LOCK_NAME}`"
            )
        return lockfile.loads(raw.decode("utf-8", "replace"), f"{LOCK_NAME} (staged)")
    cache = os.path.join(project.private_dir, "parsed-lock.json")
    lock = lockfile.read(project.lock_path, parsed_cache=cache)
    if lock is None:
        raise LockfileError(
            f"{LOCK_NAME} does not exist in {project.root}; run `evallock lock` to "
            "create it"
        )
    return lock


def current(
    project: Project, staged: bool = False, include_env: bool = False
) -> tuple[dict[str, Any], StatCache]:
    """Fingerprint the inputs as they are now (or as staged)."""
    cache = open_cache(project)
    cfg = load_config(project, staged)
    source: WorkTree = GitIndex(project, cache) if staged else WorkTree(project, cache)
    lock = fingerprint.build(project, cfg, source, include_env=include_env)
    cache.prune(blobs=staged)
    cache.save()
    log.debug("stat cache: %d hits, %d misses", cache.hits, cache.misses)
    return lock, cache


def verify(
    project: Project, staged: bool = False, include_env: bool = False
) -> Outcome:
    expected = read_lock(project, staged)
    actual, cache = current(project, staged, include_env)
    components = list(fingerprint.INPUT_COMPONENTS)
    if include_env:
        components += fingerprint.ENV_COMPONENTS
    return Outcome(
        changes=compare_locks(expected, actual, components),
        reformatted=reformatted_datasets(expected, actual),
        env_checked=include_env,
        cache_hits=cache.hits,
        cache_misses=cache.misses,
        lock=actual,
        previous=expected,
    )


def write_lock(project: Project) -> Outcome:
    """Fingerprint everything and replace ``eval.lock``; report what changed.

    A file lock in ``.git/evallock`` serialises concurrent ``lock`` commands,
    so two writers never interleave, and the write itself is atomic.
    """
    with exclusive_lock(os.path.join(project.private_dir, "lock.flock")):
        previous, unreadable = _previous_lock(project)
        lock, cache = current(project, include_env=True)
        components = list(fingerprint.INPUT_COMPONENTS) + list(
            fingerprint.ENV_COMPONENTS
        )
        changes = compare_locks(previous or {}, lock, components)
        lockfile.write(project.lock_path, lock)
    return Outcome(
        changes=changes,
        reformatted=reformatted_datasets(previous or {}, lock),
        env_checked=True,
        cache_hits=cache.hits,
        cache_misses=cache.misses,
        lock=lock,
        previous=previous,
        replaced_unreadable=unreadable,
    )


def _previous_lock(project: Project) -> tuple[dict[str, Any] | None, str | None]:
    """Return the old lock, or None and the reason it cannot be read.

    Rewriting is the fix that every LockfileError message names, so ``lock``
    must succeed over a conflicted, truncated or too-new lock.
    """
    try:
        return lockfile.read(project.lock_path), None
    except LockfileError as error:
        return None, str(error)


def lock_at(project: Project, revision: str) -> dict[str, Any]:
    """Return ``eval.lock`` as committed at a git revision."""
    raw = project.read_at_revision(revision, LOCK_NAME)
    if raw is None:
        raise LockfileError(
            f"{LOCK_NAME} does not exist at revision {revision!r}; pick a revision "
            "made after the first `evallock lock`"
        )
    return lockfile.loads(raw.decode("utf-8", "replace"), f"{LOCK_NAME} at {revision}")


def compare_locks_for_diff(
    old: dict[str, Any], new: dict[str, Any], include_env: bool
) -> list[Change]:
    components = list(fingerprint.INPUT_COMPONENTS)
    if include_env:
        components += fingerprint.ENV_COMPONENTS
    return compare_locks(old, new, components)
