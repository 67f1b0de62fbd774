"""``evallock tui`` (and bare ``evallock``): the terminal UI."""

from __future__ import annotations

import argparse

from evallock import compare
from evallock.commands import project_of


def configure(parser: argparse.ArgumentParser) -> None:
    del parser  # the UI takes no options of its own


def run(args: argparse.Namespace) -> int:
    project = project_of(args)
    policy = compare.policy_of(project)
    # Imported here so that no other command pays for loading Textual.
    from evallock.tui.app import EvalLockApp, first_page

    runs, complete = first_page(project)
    EvalLockApp(project, policy, runs, complete).run()
    return 0
