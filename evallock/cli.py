"""The ``evallock`` command line: argument parsing and the one error boundary.

Each command lives in ``evallock/commands/<name>.py`` with ``configure(parser)``
and ``run(args) -> int``. Modules are imported only for the command that
runs, so ``evallock verify`` never pays for the terminal UI or vLLM.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from evallock import __version__
from evallock.errors import EvalLockError

EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

COMMANDS: dict[str, str] = {
    "init": "scaffold .evallock.toml from what is in the repository",
    "lock": "fingerprint all inputs and write eval.lock",
    "verify": "check the inputs against eval.lock (exit 1 on drift)",
    "diff": "show what differs between two locks (revisions or run ids)",
    "hook": "install or remove the git pre-commit hook",
    "run": "verify, run one cold vLLM evaluation and store the result",
    "log": "list stored runs, newest first",
    "show": "show one stored run",
    "sync": "push and fetch stored results with a git remote",
    "compare": "say whether two runs may be compared, with the score delta",
    "tui": "open the terminal UI (also what bare `evallock` does)",
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            EXIT_ERROR,
            f"{self.prog}: error: {message}; see `{self.prog} --help`\n",
        )


def _add_global_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """Add -C, -v, -q and --debug, accepted before or after the command name.

    On subcommands the defaults are suppressed, so that an option given
    before the command is not reset by the subcommand's parser.
    """
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    parser.add_argument(
        "-C",
        dest="directory",
        default=default("."),
        metavar="DIR",
        help="run as if started in DIR (default: the current folder)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default(False),
        help="log debug detail",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default(False),
        help="print only errors; the exit code still reports the outcome",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="show tracebacks of unexpected errors",
    )


def build_parser(names: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="evallock",
        description="Pin everything that decides an LLM evaluation score, run it "
        "cold, and store the result in git.",
    )
    parser.add_argument(
        "--version", action="version", version=f"evallock {__version__}"
    )
    _add_global_options(parser, top=True)
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser
    )
    for name in names if names is not None else COMMANDS:
        module = importlib.import_module(f"evallock.commands.{name}")
        sub = subparsers.add_parser(
            name, help=COMMANDS[name], description=COMMANDS[name]
        )
        _add_global_options(sub, top=False)
        module.configure(sub)
    return parser


def _first_positional(argv: Sequence[str]) -> str | None:
    skip_next = False
    for arg in argv:
        if skip_next:
            skip_next = False
        elif arg == "-C":
            skip_next = True
        elif not arg.startswith("-"):
            return arg
    return None


def _setup_logging(verbose: bool, quiet: bool) -> None:
    level = logging.WARNING
    if verbose:
        level = logging.DEBUG
    elif quiet:
        level = logging.ERROR
    logging.basicConfig(
        level=level, format="evallock: %(levelname)s: %(message)s", stream=sys.stderr
    )
    if not verbose:
        logging.getLogger("git").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    first = _first_positional(arguments)
    asks_help = any(a in ("-h", "--help", "--version") for a in arguments)
    if first is None and not asks_help:
        arguments.append("tui")
        first = "tui"
    # Only the named command's module is imported, so that `verify` never
    # pays for the terminal UI or vLLM; an unknown name gets the full parser
    # and its usage message.
    parser = build_parser([first] if first in COMMANDS else None)
    args = parser.parse_args(arguments)
    _setup_logging(args.verbose, args.quiet)
    try:
        module = importlib.import_module(f"evallock.commands.{args.command}")
        return int(module.run(args))
    except EvalLockError as error:
        print(f"evallock: error: {error}", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("evallock: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # the one boundary for unexpected failures
        print(
            f"evallock: internal error: {type(error).__name__}: {error}. "
            "Rerun with --debug for the traceback and report it.",
            file=sys.stderr,
        )
        if args.debug:
            traceback.print_exc()
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
