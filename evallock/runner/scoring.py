"""Scorers: turn a model output and an item's expected answer into a number.

Built-in scorers compare stripped strings. A Python scorer is a function in a
file inside the repository, named in the lock with its source digest, called
as ``function(output: str, item: dict) -> float | bool``.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
from collections.abc import Callable
from typing import Any

from evallock.errors import InputError, RunError

Scorer = Callable[[str, dict[str, Any]], float]


def _expected(item: dict[str, Any], field: str) -> str:
    if field not in item:
        raise InputError(
            f"dataset item {item.get('__key__')!r} has no {field!r} field for the "
            "scorer; set answer_field in its [[evals]] table"
        )
    return str(item[field]).strip()


def build(spec: str, answer_field: str, project_root: str) -> Scorer:
    """Return the scoring function named by a scorer setting."""
    if spec == "exact_match":
        return lambda output, item: float(
            output.strip() == _expected(item, answer_field)
        )
    if spec == "includes":
        return lambda output, item: float(_expected(item, answer_field) in output)
    if spec.startswith("regex:"):
        pattern = re.compile(spec[len("regex:") :])
        return lambda output, item: _regex_score(pattern, output, item, answer_field)
    return _python_scorer(spec, project_root)


def _regex_score(
    pattern: re.Pattern[str], output: str, item: dict[str, Any], field: str
) -> float:
    """Score the text matched by the pattern's first group (or whole match)."""
    match = pattern.search(output)
    if match is None:
        return 0.0
    found = match.group(1) if pattern.groups else match.group(0)
    return float(found.strip() == _expected(item, field))


def _python_scorer(spec: str, project_root: str) -> Scorer:
    _, relative, name = spec.split(":")
    path = os.path.realpath(os.path.join(project_root, relative))
    root = os.path.realpath(project_root)
    if not path.startswith(root + os.sep):
        raise InputError(
            f"scorer file {relative!r} is outside the project; Python scorers run "
            "only from files inside the repository"
        )
    module_spec = importlib.util.spec_from_file_location("evallock_scorer", path)
    if module_spec is None or module_spec.loader is None:
        raise InputError(f"scorer file {relative!r} cannot be loaded as Python")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as error:
        raise InputError(
            f"scorer file {relative!r} failed to import: {type(error).__name__}: "
            f"{error}; fix the file"
        ) from None
    function = getattr(module, name, None)
    if not callable(function):
        raise InputError(
            f"scorer file {relative!r} has no function {name!r}; fix the scorer setting"
        )

    def score(output: str, item: dict[str, Any]) -> float:
        public = {k: v for k, v in item.items() if k != "__key__"}
        try:
            value = function(output, public)
        except Exception as error:
            raise RunError(
                f"scorer {relative}:{name} raised {type(error).__name__}: {error} on "
                f"item {item.get('__key__')!r}; fix the scorer"
            ) from None
        if isinstance(value, bool):
            return float(value)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise RunError(
                f"scorer {relative}:{name} returned {value!r} for item "
                f"{item.get('__key__')!r}; it must return a finite number or a boolean"
            )
        return float(value)

    return score
