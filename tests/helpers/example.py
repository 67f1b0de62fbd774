"""A copy of the bundled example project in a new git repository."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers.project import commit_all, init_repo

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "arith"
needs_example = pytest.mark.skipif(
    not (EXAMPLE / "model" / "config.json").exists(),
    reason="the example model is not built (python examples/arith/train.py)",
)


def example_project(root: Path, items: int | None = 64) -> Path:
    """A git repository holding a copy of the bundled example project.

    With *items* above the 300 of the example's dataset, more two-digit sums
    are generated, so that generation lasts long enough to be interrupted.
    """
    root.mkdir(parents=True)
    shutil.copy(REPO_ROOT / ".evallock.toml", root / ".evallock.toml")
    for part in ("model", "data", "prompts"):
        shutil.copytree(EXAMPLE / part, root / "examples" / "arith" / part)
    dataset = root / "examples" / "arith" / "data" / "addition.jsonl"
    rows = [json.loads(line) for line in dataset.read_text().splitlines()]
    if items is not None and items <= len(rows):
        rows = rows[:items]
    elif items is not None:
        rows = [
            {
                "id": f"sum-{n:06d}",
                "a": n % 90 + 10,
                "b": n // 90 % 90 + 10,
                "answer": str(n % 90 + 10 + n // 90 % 90 + 10),
            }
            for n in range(items)
        ]
    dataset.write_text("".join(json.dumps(row) + "\n" for row in rows))
    init_repo(root)
    commit_all(root, "Add the example project")
    return root
