"""``evallock sync``: push and fetch stored results with a git remote."""

from __future__ import annotations

import argparse
import subprocess

from evallock.commands import project_of
from evallock.errors import GitError

REFSPEC = "refs/evallock/*:refs/evallock/*"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("remote", nargs="?", default="origin", help="remote name")
    parser.add_argument("--fetch-only", action="store_true", help="do not push")
    parser.add_argument("--push-only", action="store_true", help="do not fetch")


def _git(top: str, *args: str) -> None:
    done = subprocess.run(
        ["git", *args], cwd=top, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise GitError(
            f"`git {' '.join(args)}` failed: "
            f"{done.stderr.strip() or done.stdout.strip()}"
        )


def run(args: argparse.Namespace) -> int:
    project = project_of(args)
    if args.remote not in [remote.name for remote in project.repo.remotes]:
        raise GitError(
            f"remote {args.remote!r} does not exist; add it with `git remote add` or "
            "name another remote"
        )
    if not args.push_only:
        # Fetch into a separate namespace first, then merge histories by
        # storing the union; a plain forced fetch could drop local runs.
        _fetch_and_merge(project.top, args.remote)
    if not args.fetch_only:
        _git(project.top, "push", args.remote, REFSPEC)
    if not args.quiet:
        print(f"results synced with {args.remote}")
    return 0


def _fetch_and_merge(top: str, remote: str) -> None:
    incoming = f"refs/evallock-incoming/{remote}/"
    _git(top, "fetch", remote, f"+refs/evallock/*:{incoming}*")
    from evallock.store import RESULTS_REF, merge_incoming

    merge_incoming(top, incoming + RESULTS_REF.removeprefix("refs/evallock/"))
