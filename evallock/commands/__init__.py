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
