"""A small stored history for UI tests and the screenshot: four runs, four verdicts."""

from __future__ import annotations

from pathlib import Path

from evallock import compare, store
from evallock.gitrepo import Project
from evallock.tui.app import EvalLockApp
from helpers.project import commit_all, items, set_config, write_jsonl
from helpers.runs import locked_project, noise_of, relock, store_run

# Newest first, as the list shows them.
IDS = ["d4e5f6a7", "c3d4e5f6", "b2c3d4e5", "a1b2c3d4"]


def build_history(root: Path) -> Project:
    """Runs on new weights (comparable), grown data (subset) and a new batch size."""
    project = locked_project(root)
    store_run(
        project,
        "a1b2c3d4",
        correct=lambda k: k < "add-0015",
        created="2026-12-01T09:00:00Z",
        noise=noise_of(0.70, 0.75),
    )

    (root / "model/model.safetensors").write_bytes(b"\x02" * 4096)
    project = relock(project)
    store_run(
        project,
        "b2c3d4e5",
        correct=lambda k: k < "add-0017",
        created="2026-12-02T09:00:00Z",
    )

    write_jsonl(root / "data/addition.jsonl", items(20) + items(3, start=500))
    project = relock(project)
    store_run(
        project,
        "c3d4e5f6",
        correct=lambda k: k < "add-0018",
        created="2026-12-03T09:00:00Z",
    )

    set_config(root, "max_num_seqs = 64", "max_num_seqs = 8")
    project = relock(project)
    store_run(
        project,
        "d4e5f6a7",
        correct=lambda k: k < "add-0016",
        created="2026-12-04T09:00:00Z",
    )
    commit_all(root)
    return project


def make_app(project: Project) -> EvalLockApp:
    """The app as ``evallock tui`` builds it."""
    return EvalLockApp(project, compare.policy_of(project), store.list_runs(project))
