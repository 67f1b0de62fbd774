"""Rendering drift as text, JSON or GitHub workflow annotations."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

from evallock.drift import Change
from evallock.gitrepo import LOCK_NAME, Project

FORMATS = ("text", "json", "github")
# GitHub Actions shows 10 error annotations per step and drops the rest
# (https://github.com/actions/toolkit/blob/main/docs/problem-matchers.md).
GITHUB_ERROR_LIMIT = 10
# Components whose change paths are files relative to the project folder.
PROJECT_FILE_COMPONENTS = ("prompts", "datasets", "scorer")


def _show(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def describe(change: Change) -> str:
    """One line: what changed and how, without the component name."""
    if change.setting is not None:
        return f"{change.setting}: {_show(change.old)} → {_show(change.new)}"
    text = f"{change.kind} {change.path}"
    if change.part is not None:
        text += f" ({change.part.replace('_', ' ')})"
    extras: list[str] = []
    if change.items is not None:
        items = change.items
        extras.append(
            f"items: {items['added']} added, {items['removed']} removed, "
            f"{items['changed']} changed"
        )
    for row in change.settings:
        extras.append(f"{row['setting']}: {_show(row['old'])} → {_show(row['new'])}")
    if change.detail:
        extras.append(change.detail)
    if extras:
        text += ": " + "; ".join(extras)
    return text


def as_text(changes: Sequence[Change], against: str) -> str:
    if not changes:
        return f"ok: inputs match {against}"
    lines = [f"drift: {len(changes)} change(s) against {against}"]
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.component, []).append(change)
    for component, members in groups.items():
        lines.append(f"  {component}")
        lines.extend(f"    {describe(change)}" for change in members)
    return "\n".join(lines)


def as_json(changes: Sequence[Change], **extra: Any) -> str:
    payload: dict[str, Any] = {
        "status": "drift" if changes else "ok",
        "changes": [change.to_json() for change in changes],
    }
    payload.update(extra)
    return json.dumps(payload, indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation_path(project: Project, change: Change) -> str:
    """Return the repository-relative file a GitHub annotation of *change* points at.

    That is the drifted file itself when it exists inside the repository (a
    prompt, dataset, scorer, or a checkpoint file kept in the repository),
    and ``eval.lock`` otherwise: for settings, removed files and checkpoints
    outside the repository.
    """
    lock = project.repo_path(LOCK_NAME)
    if change.path is None or change.kind == "removed":
        return lock
    if change.component in PROJECT_FILE_COMPONENTS:
        return project.repo_path(change.path)
    if change.component != "checkpoint" or change.path.startswith("hf:"):
        return lock
    absolute = os.path.join(project.root, os.path.expanduser(change.path))
    relative = os.path.relpath(os.path.normpath(absolute), project.top)
    if relative == ".." or relative.startswith(".." + os.sep):
        return lock
    return relative.replace(os.sep, "/")


def as_github(
    changes: Sequence[Change],
    lock_path: str,
    fix: str,
    locate: Callable[[Change], str] | None = None,
) -> str:
    """GitHub Actions workflow commands: one ``::error`` per change.

    GitHub shows at most ``GITHUB_ERROR_LIMIT`` error annotations per step,
    so past that the last annotation counts the rest and every change is
    also printed as a plain log line.
    """
    if not changes:
        return "::notice title=evallock::inputs match eval.lock"
    annotated = list(changes)
    if len(changes) > GITHUB_ERROR_LIMIT:
        annotated = annotated[: GITHUB_ERROR_LIMIT - 1]
    lines = []
    for change in annotated:
        target = locate(change) if locate is not None else lock_path
        location = f"file={_escape_property(target)},"
        title = _escape_property(f"evallock drift in {change.component}")
        message = _escape_data(f"{change.component}: {describe(change)}. Fix: {fix}")
        lines.append(f"::error {location}title={title}::{message}")
    hidden = len(changes) - len(annotated)
    if hidden:
        title = _escape_property("evallock drift")
        message = _escape_data(
            f"{hidden} more change(s) are listed in the log. Fix: {fix}"
        )
        location = f"file={_escape_property(lock_path)}"
        lines.append(f"::error {location},title={title}::{message}")
        lines.extend(f"{change.component}: {describe(change)}" for change in changes)
    return "\n".join(lines)
