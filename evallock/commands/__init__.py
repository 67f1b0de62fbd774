"""One module per command: parse arguments, call the core, print, pick an exit code."""

from __future__ import annotations

import argparse

from evallock.gitrepo import Project, find_project


def add_format(parser: argparse.ArgumentParser, choices: tuple[str, ...]) -> None:
    parser.add_argument(
        "--format",
        choices=choices,
        default="text",
        help=f"output format ({', '.join(choices)}; default: text)",
    )


def project_of(args: argparse.Namespace) -> Project:
    return find_project(args.directory)


def count(text: str) -> int:
    """Parse a count for argparse: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more")
    return value


def run_id(text: str) -> str:
    """Parse a run id or id prefix for argparse, rejecting an empty one."""
    if not text.strip():
        raise argparse.ArgumentTypeError("a run id must not be empty")
    return text
