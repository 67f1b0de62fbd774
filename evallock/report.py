"""Rendering drift as text, JSON or GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from evallock.drift import Change

FORMATS = ("text", "json", "github")


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


def as_github(changes: Sequence[Change], lock_path: str, fix: str) -> str:
    """GitHub Actions workflow commands: one ``::error`` per change."""
    lines = []
    for change in changes:
        in_project = change.component in ("prompts", "datasets", "scorer")
        target = change.path if in_project and change.path else lock_path
        location = f"file={_escape_property(target)},"
        title = _escape_property(f"evallock drift in {change.component}")
        message = _escape_data(f"{change.component}: {describe(change)}. Fix: {fix}")
        lines.append(f"::error {location}title={title}::{message}")
    if not changes:
        lines.append("::notice title=evallock::inputs match eval.lock")
    return "\n".join(lines)
