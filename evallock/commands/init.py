"""``evallock init``: scaffold ``.evallock.toml`` from what is in the repository."""

from __future__ import annotations

import argparse
import os

from evallock import config as config_module
from evallock import scaffold
from evallock.errors import ConfigError
from evallock.gitrepo import CONFIG_NAME, open_repo


def configure(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults()


def _exists(path: str) -> ConfigError:
    return ConfigError(
        f"{path} already exists and init never overwrites it; edit it, or "
        "delete it and rerun `evallock init`"
    )


def run(args: argparse.Namespace) -> int:
    open_repo(args.directory)
    root = os.path.realpath(args.directory)
    path = os.path.join(root, CONFIG_NAME)
    if os.path.lexists(path):
        raise _exists(path)
    found = scaffold.survey(root)
    text = scaffold.render(found)
    config_module.load_text(text)  # the scaffold must always parse
    try:
        with open(path, "x", encoding="utf-8") as stream:
            stream.write(text)
    except FileExistsError:
        raise _exists(path) from None
    if not args.quiet:
        print(f"wrote {path}")
        if not found.checkpoints or not found.datasets or not found.templates:
            print("edit the CHANGE-ME values, then run `evallock lock`")
        else:
            print("review it, then run `evallock lock`")
    return 0
