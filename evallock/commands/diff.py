"""``evallock diff [A] [B]``: what differs between two locks."""

from __future__ import annotations

import argparse
from typing import Any

from evallock import lockfile, locking, report
from evallock.cli import EXIT_DRIFT, EXIT_OK
from evallock.commands import add_format, project_of
from evallock.errors import LockfileError
from evallock.gitrepo import Project

WORKTREE = "worktree"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "old",
        nargs="?",
        default="HEAD",
        help="git revision or run id of the old lock (default: HEAD)",
    )
    parser.add_argument(
        "new",
        nargs="?",
        default=WORKTREE,
        help="git revision or run id of the new lock (default: the eval.lock file "
        "in the working tree)",
    )
    parser.add_argument(
        "--env", action="store_true", help="include software and hardware"
    )
    add_format(parser, report.FORMATS)


def resolve(project: Project, name: str) -> dict[str, Any]:
    """Return the lock named by a revision, a run id, or ``worktree``."""
    if name == WORKTREE:
        lock = lockfile.read(project.lock_path)
        if lock is None:
            raise LockfileError(
                f"{project.lock_path} does not exist; run `evallock lock` first"
            )
        return lock
    run_lock = _run_lock(project, name)
    if run_lock is not None:
        return run_lock
    return locking.lock_at(project, name)


def _run_lock(project: Project, name: str) -> dict[str, Any] | None:
    try:
        from evallock import store
    except ImportError:
        return None
    return store.lock_of_run(project, name)


def run(args: argparse.Namespace) -> int:
    project = project_of(args)
    old = resolve(project, args.old)
    new = resolve(project, args.new)
    changes = locking.compare_locks_for_diff(old, new, args.env)
    code = EXIT_DRIFT if changes else EXIT_OK
    if args.quiet:
        return code
    if args.format == "json":
        print(report.as_json(changes, old=args.old, new=args.new))
    elif args.format == "github":
        print(
            report.as_github(changes, project.repo_path("eval.lock"), "review the diff")
        )
    else:
        print(report.as_text(changes, f"{args.old} → {args.new}"))
    return code
