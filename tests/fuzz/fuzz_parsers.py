"""Coverage-guided fuzzing of evallock's parsers with atheris (libFuzzer).

Each target feeds arbitrary bytes to one parser that reads untrusted input
and fails on any exception other than the error the parser documents. Run
one target for a fixed time::

    python tests/fuzz/fuzz_parsers.py config -max_total_time=120
    python tests/fuzz/fuzz_parsers.py lock -max_total_time=120
    python tests/fuzz/fuzz_parsers.py dataset -max_total_time=120
    python tests/fuzz/fuzz_parsers.py summary -max_total_time=120

Arguments after the target name go to libFuzzer. This file is not collected
by pytest; the fuzz run is not part of the test suite.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import atheris

with atheris.instrument_imports():
    from evallock import config, lockfile, store
    from evallock.errors import ConfigError, InputError, LockfileError
    from evallock.inputs import datasets


def fuzz_config(data: bytes) -> None:
    try:
        config.load_text(config.decode_text(data, "fuzz.toml"), "fuzz.toml")
    except ConfigError:
        pass


def fuzz_lock(data: bytes) -> None:
    try:
        lockfile.loads(data.decode("utf-8"), "eval.lock")
    except (LockfileError, UnicodeDecodeError):
        pass


def fuzz_dataset(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    fmt = provider.PickValueInList(list(config.DATASET_FORMATS))
    id_field = provider.PickValueInList(["", "id"])
    payload = provider.ConsumeBytes(provider.remaining_bytes())
    try:
        list(datasets.load_items(payload, "data/fuzz", fmt, id_field))
    except InputError:
        pass


def fuzz_summary(data: bytes) -> None:
    store._parse_summary(data.decode("utf-8", "replace"))


TARGETS: dict[str, Callable[[bytes], None]] = {
    "config": fuzz_config,
    "lock": fuzz_lock,
    "dataset": fuzz_dataset,
    "summary": fuzz_summary,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
