"""``evallock lock``: fingerprint every input and write ``eval.lock``."""

from __future__ import annotations

import argparse
import sys

from evallock import locking, report
from evallock.commands import add_format, project_of


def configure(parser: argparse.ArgumentParser) -> None:
    add_format(parser, ("text", "json"))


def run(args: argparse.Namespace) -> int:
    project = project_of(args)
    outcome = locking.write_lock(project)
    if outcome.replaced_unreadable is not None:
        # Lockfile errors end with "; rerun `evallock lock` ...", which this
        # command has just done, so only the reason is repeated.
        reason = outcome.replaced_unreadable.rsplit("; ", 1)[0]
        print(
            f"note: the previous eval.lock could not be read ({reason}), so it was "
            "replaced without a comparison",
            file=sys.stderr,
        )
    if args.quiet:
        return 0
    if args.format == "json":
        print(report.as_json(outcome.changes, written=project.lock_path))
        return 0
    if outcome.previous is None:
        count = len(outcome.lock["prompts"]["files"]) + len(outcome.lock["datasets"])
        print(f"wrote {project.lock_path} ({count} prompt and dataset files)")
    elif outcome.changes:
        print(report.as_text(outcome.changes, "the previous eval.lock"))
        print(f"wrote {project.lock_path}")
    else:
        print(f"{project.lock_path} is up to date")
    for path in outcome.reformatted:
        print(f"note: {path} was reformatted; its items are unchanged", file=sys.stderr)
    return 0
