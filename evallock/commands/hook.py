"""``evallock hook install|uninstall``: the plain git pre-commit hook."""

from __future__ import annotations

import argparse
import sys

from evallock import hooks
from evallock.cli import EXIT_OK
from evallock.commands import project_of


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="hook_action", metavar="ACTION", required=True)
    install = actions.add_parser(
        "install",
        help="install a git pre-commit hook that runs `evallock verify --staged`",
        description="Install a git pre-commit hook that runs `evallock verify "
        "--staged`. An existing hook is never overwritten.",
    )
    install.add_argument(
        "--chain",
        action="store_true",
        help="keep an existing pre-commit hook and run it before evallock",
    )
    actions.add_parser(
        "uninstall",
        help="remove evallock's pre-commit hook and restore a chained one",
        description="Remove this project from evallock's pre-commit hook; delete "
        "the hook when no project is left, restoring a hook kept with --chain.",
    )


def run(args: argparse.Namespace) -> int:
    project = project_of(args)
    if args.hook_action == "install":
        result = hooks.install(project, chain=args.chain)
    else:
        result = hooks.uninstall(project)
    if args.quiet:
        return EXIT_OK
    print(f"{result.action}: {result.path}")
    if result.chained is None:
        return EXIT_OK
    if args.hook_action == "install":
        print(f"the earlier hook, now {result.chained}, runs first", file=sys.stderr)
    else:
        print(f"restored the earlier hook to {result.path}", file=sys.stderr)
    return EXIT_OK
