"""Bad stored runs and bad run arguments: exit 2 with one plain line, never a crash.

A stored run can be damaged or hand-made (another tool, a hostile remote, a
disk error). Each case rewrites the newest run on ``refs/evallock/results``
and runs ``show``, ``compare`` and ``diff`` on it, which must fail with
exit 2 and one ``evallock: error:`` line, never an internal error. ``log``
reads only commit messages and skips what it cannot read, with a warning.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.project import git
from helpers.runs import locked_project, store_run
from helpers.tamper import replace_tip_files

RUN = "ba0ba0b1"
GOOD = "900d900d"


def _record(root: Path) -> dict[str, Any]:
    data = git(root, "show", "refs/evallock/results:record.json")
    return json.loads(data)


def _edit_record(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        record = _record(root)
        change(record)
        replace_tip_files(root, {"record.json": json.dumps(record).encode()})

    return apply


def _files(files: dict[str, bytes | None]) -> Callable[[Path], None]:
    return lambda root: replace_tip_files(root, files) and None


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda record: record.__setitem__(key, value)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda record: record.pop(key)


# (kind, tampering, text the error line must contain)
STORED_CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("record not JSON", _files({"record.json": b"{not json"}), "malformed record"),
    ("record empty", _files({"record.json": b""}), "malformed record"),
    ("record a list", _files({"record.json": b"[1, 2]"}), "malformed record.json"),
    ("record missing", _files({"record.json": None}), "has no record.json"),
    ("items not UTF-8", _files({"items.jsonl": b"\xff\xfe{}\n"}), "malformed record"),
    ("items line not JSON", _files({"items.jsonl": b'{"eval":\n'}), "malformed record"),
    (
        "items line a list",
        _files({"items.jsonl": b"[1]\n"}),
        "line 1 is not a JSON object",
    ),
    ("items line empty object", _files({"items.jsonl": b"{}\n"}), "no string 'eval'"),
    (
        "items score a string",
        _files({"items.jsonl": b'{"eval": "addition", "key": "k", "score": "1"}\n'}),
        "no numeric 'score'",
    ),
    ("items missing", _files({"items.jsonl": None}), "has no items.jsonl"),
    ("lock missing", _files({"eval.lock": None}), "has no eval.lock"),
    (
        "lock conflicted",
        _files({"eval.lock": b"version = 1\n<<<<<<< ours\n"}),
        "merge-conflict markers",
    ),
    ("lock from the future", _files({"eval.lock": b"version = 99\n"}), "version 99"),
    ("lock not TOML", _files({"eval.lock": b"version = = 1\n"}), "not valid TOML"),
    (
        "record version too new",
        _edit_record(_set("record_version", 99)),
        "record version 99",
    ),
    (
        "prefix caching on",
        _edit_record(
            _set(
                "prefix_cache", {"queries": 1, "hits": 0, "enable_prefix_caching": True}
            )
        ),
        "prefix caching was on",
    ),
    (
        "prefix cache hits",
        _edit_record(
            _set(
                "prefix_cache",
                {"queries": 4, "hits": 2, "enable_prefix_caching": False},
            )
        ),
        "2 prefix-cache hits",
    ),
    (
        "prefix counters missing",
        _edit_record(_drop("prefix_cache")),
        "no prefix-cache counters",
    ),
    ("status failed", _edit_record(_set("status", "failed")), "status is 'failed'"),
    ("score a string", _edit_record(_set("score", "high")), "'score' field"),
    ("score missing", _edit_record(_drop("score")), "'score' field"),
    ("evals a string", _edit_record(_set("evals", "all")), "'evals' table"),
    ("created missing", _edit_record(_drop("created")), "'created' field"),
]


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    project = locked_project(tmp_path / "repo")
    store_run(project, GOOD)
    store_run(project, RUN)
    return Path(project.root)


def _one_error_line(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("kind", "tamper", "expected"), STORED_CASES, ids=[c[0] for c in STORED_CASES]
)
def test_show_bad_stored_run_exits_2(
    stored: Path, kind: str, tamper: Callable[[Path], None], expected: str
) -> None:
    tamper(stored)

    done = run_cli(stored, "show", RUN)

    assert done.code == 2, done.stdout + done.stderr
    lines = _one_error_line(done.stderr)
    assert len(lines) == 1, lines
    assert lines[0].startswith("evallock: error: "), lines
    assert expected in lines[0]


@pytest.mark.parametrize(
    ("kind", "tamper", "expected"), STORED_CASES, ids=[c[0] for c in STORED_CASES]
)
def test_compare_bad_stored_run_no_crash(
    stored: Path, kind: str, tamper: Callable[[Path], None], expected: str
) -> None:
    tamper(stored)

    done = run_cli(stored, "compare", GOOD, RUN)

    assert done.code in (0, 2), done.stderr
    assert "internal error" not in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("kind", "tamper", "expected"), STORED_CASES, ids=[c[0] for c in STORED_CASES]
)
def test_log_bad_stored_run_still_lists(
    stored: Path, kind: str, tamper: Callable[[Path], None], expected: str
) -> None:
    tamper(stored)

    done = run_cli(stored, "log")

    assert done.code == 0, done.stderr
    assert GOOD in done.stdout


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("summary missing", "evallock run x: score 1\n\nno summary here\n"),
        ("summary not JSON", "evallock run x\n\nevallock-summary: {oops\n"),
        ("summary a list", "evallock run x\n\nevallock-summary: [1]\n"),
        ("summary nested deep", "r\n\nevallock-summary: " + "[" * 3000 + "]" * 3000),
    ],
)
def test_log_skips_unreadable_summary(stored: Path, kind: str, message: str) -> None:
    replace_tip_files(stored, {}, message=message)

    done = run_cli(stored, "log")

    assert done.code == 0, done.stderr
    assert GOOD in done.stdout
    assert "skipping commit" in done.stderr


def test_results_ref_not_commit_exits_2(stored: Path) -> None:
    blob = git(stored, "rev-parse", "refs/evallock/results:record.json").strip()
    git(stored, "update-ref", "refs/evallock/results", blob)

    done = run_cli(stored, "log")

    assert done.code == 2
    assert "points to a blob, not a commit" in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--repeat", "0"], "--repeat 0 must be 1 or more"),
        (["--repeat", "-3"], "--repeat -3 must be 1 or more"),
        (["--timeout", "0"], "--timeout 0 must be"),
        (["--timeout", "-5"], "--timeout -5 must be"),
        (["--timeout", "nan"], "--timeout nan must be"),
    ],
)
def test_run_bad_arguments_exit_2(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    project = locked_project(tmp_path / "repo")

    done = run_cli(project.root, "run", *args)

    assert done.code == 2
    assert expected in done.stderr


def test_run_without_lock_exits_2(tmp_path: Path) -> None:
    project = locked_project(tmp_path / "repo")
    Path(project.lock_path).unlink()

    done = run_cli(project.root, "run")

    assert done.code == 2
    assert "run `evallock lock` to create it" in done.stderr
