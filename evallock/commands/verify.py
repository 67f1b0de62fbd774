"""``evallock verify``: compare the inputs with ``eval.lock`` (exit 1 on drift)."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from typing import Any

from evallock import locking, report, staging
from evallock.cli import EXIT_DRIFT, EXIT_OK
from evallock.commands import add_format, project_of
from evallock.gitrepo import LOCK_NAME

FIX = "run `evallock lock && git add eval.lock`, or revert the change"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--staged",
        action="store_true",
        help="check the content staged in the git index instead of the working tree",
    )
    parser.add_argument(
        "--env",
        action="store_true",
        help="also compare software versions and hardware with the lock",
    )
    add_format(parser, report.FORMATS)


def run(args: argparse.Namespace) -> int:
    project = project_of(args)
    outcome = locking.verify(project, staged=args.staged, include_env=args.env)
    code = EXIT_DRIFT if outcome.changes else EXIT_OK
    if args.quiet:
        return code
    advice = None
    if args.staged and outcome.changes:
        advice = staging.advise(project, outcome.changes, outcome.lock)
    fix = f"run `{advice.fix}`, or revert the change" if advice else FIX
    if args.format == "json":
        print(_json(args, outcome, advice))
    elif args.format == "github":
        locate = partial(report.annotation_path, project)
        lock_path = project.repo_path(LOCK_NAME)
        print(report.as_github(outcome.changes, lock_path, fix, locate))
    else:
        _print_text(args, outcome, fix, advice)
    return code


def _json(
    args: argparse.Namespace, outcome: locking.Outcome, advice: staging.Advice | None
) -> str:
    extra: dict[str, Any] = {}
    if advice is not None:
        extra = {"fix": advice.fix, "notes": advice.notes}
    return report.as_json(
        outcome.changes,
        staged=args.staged,
        env_checked=outcome.env_checked,
        reformatted=outcome.reformatted,
        **extra,
    )


def _print_text(
    args: argparse.Namespace,
    outcome: locking.Outcome,
    fix: str,
    advice: staging.Advice | None,
) -> None:
    against = "eval.lock (staged)" if args.staged else "eval.lock"
    print(report.as_text(outcome.changes, against))
    if outcome.changes:
        print(f"to accept these changes: {fix}", file=sys.stderr)
    for note in advice.notes if advice else []:
        print(f"note: {note}", file=sys.stderr)
    for path in outcome.reformatted:
        print(f"note: {path} was reformatted; its items are unchanged", file=sys.stderr)
    # Staged checks are about files, so the environment note is noise there.
    if not outcome.env_checked and not args.staged:
        print(
            "note: software and hardware were not compared; add --env to include them",
            file=sys.stderr,
        )
