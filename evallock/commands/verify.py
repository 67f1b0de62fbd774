"""``evallock verify``: compare the inputs with ``eval.lock`` (exit 1 on drift)."""

from __future__ import annotations

import argparse
import sys

from evallock import locking, report
from evallock.cli import EXIT_DRIFT, EXIT_OK
from evallock.commands import add_format, project_of

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
    against = "eval.lock (staged)" if args.staged else "eval.lock"
    if args.format == "json":
        print(
            report.as_json(
                outcome.changes,
                staged=args.staged,
                env_checked=outcome.env_checked,
                reformatted=outcome.reformatted,
            )
        )
        return code
    if args.format == "github":
        print(report.as_github(outcome.changes, project.repo_path("eval.lock"), FIX))
        return code
    print(report.as_text(outcome.changes, against))
    if outcome.changes:
        print(f"to accept these changes: {FIX}", file=sys.stderr)
    for path in outcome.reformatted:
        print(f"note: {path} was reformatted; its items are unchanged", file=sys.stderr)
    if not outcome.env_checked:
        print(
            "note: software and hardware were not compared; add --env to include them",
            file=sys.stderr,
        )
    return code
