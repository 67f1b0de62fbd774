"""``evallock tui`` (and bare ``evallock``): the terminal UI."""

from __future__ import annotations

import argparse
import sys

from evallock import compare
from evallock.commands import project_of
from evallock.errors import EvalLockError


def configure(parser: argparse.ArgumentParser) -> None:
    del parser  # the UI takes no options of its own


def run(args: argparse.Namespace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise EvalLockError(
            "the terminal UI needs an interactive terminal, and stdin or stdout is "
            "not one; run a command such as `evallock log` or `evallock verify` "
            "instead"
        )
    project = project_of(args)
    policy = compare.policy_of(project)
    # Imported here so that no other command pays for loading Textual.
    from evallock.tui.app import EvalLockApp, first_page

    runs, complete = first_page(project)
    EvalLockApp(project, policy, runs, complete).run()
    return 0
