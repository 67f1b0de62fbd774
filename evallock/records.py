"""Validity rules for stored run records, shared by show, compare and the UI."""

from __future__ import annotations

from evallock.errors import StoreError
from evallock.store import RECORD_VERSION, Run


def invalid_reasons(record: dict[str, object]) -> list[str]:
    """Why a stored record cannot be trusted; empty when it is valid."""
    reasons: list[str] = []
    version = record.get("record_version")
    if not isinstance(version, int) or version > RECORD_VERSION or version < 1:
        reasons.append(
            f"record version {version!r} is not supported by this evallock "
            f"(supported: 1..{RECORD_VERSION})"
        )
    cache = record.get("prefix_cache")
    if not isinstance(cache, dict):
        reasons.append("the record has no prefix-cache counters")
    else:
        if cache.get("enable_prefix_caching") is not False:
            reasons.append("the record says prefix caching was on")
        hits = cache.get("hits")
        if not isinstance(hits, int) or hits != 0:
            reasons.append(f"the record shows {hits!r} prefix-cache hits")
    if record.get("status") != "valid":
        reasons.append(f"the record's status is {record.get('status')!r}")
    for reason in record.get("invalid_reasons") or []:  # type: ignore[attr-defined]
        reasons.append(str(reason))
    return reasons


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def shape_problems(record: dict[str, object]) -> list[str]:
    """Fields that ``show`` and ``compare`` read but that are missing or mistyped.

    A record from another tool or a hostile remote can be valid JSON and
    still lack them; this turns such a record into a plain error instead of
    a crash half-way through the output.
    """
    problems: list[str] = []
    if not isinstance(record.get("created"), str):
        problems.append("its 'created' field is not a string")
    if not _is_number(record.get("score")):
        problems.append("its 'score' field is not a number")
    evals = record.get("evals")
    if not isinstance(evals, dict) or not all(
        isinstance(entry, dict)
        and _is_number(entry.get("score"))
        and isinstance(entry.get("count"), int)
        for entry in evals.values()
    ):
        problems.append("its 'evals' table lacks a numeric score or count")
    cache = record.get("prefix_cache")
    if isinstance(cache, dict) and not isinstance(cache.get("queries"), int):
        problems.append("its prefix-cache query count is not an integer")
    return problems


def check_record(run: Run) -> None:
    reasons = invalid_reasons(run.record) + shape_problems(run.record)
    if reasons:
        raise StoreError(
            f"stored run {run.id} is invalid because {reasons[0]}; it cannot be "
            "shown or compared, so rerun the evaluation"
        )
