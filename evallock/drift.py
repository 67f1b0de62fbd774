"""What differs between two locks, per component, file, dataset item and setting."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from evallock.inputs.checkpoint import PARTS, is_chat_template_file

EOL_NAMES = {"lf": "LF", "crlf": "CRLF", "mixed": "mixed", "none": "none"}


@dataclass(frozen=True)
class Change:
    """One difference. ``path`` names a file; ``setting`` names a value."""

    component: str
    kind: str
    path: str | None = None
    setting: str | None = None
    old: Any = None
    new: Any = None
    items: dict[str, int] | None = None
    part: str | None = None
    detail: str | None = None
    settings: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"component": self.component}
        if self.part is not None:
            data["part"] = self.part
        if self.path is not None:
            data["path"] = self.path
        if self.setting is not None:
            data["setting"] = self.setting
        data["kind"] = self.kind
        if self.setting is not None:
            data["old"] = self.old
            data["new"] = self.new
        if self.items is not None:
            data["items"] = self.items
        if self.settings:
            data["settings"] = self.settings
        if self.detail is not None:
            data["detail"] = self.detail
        return data

    @property
    def name(self) -> str:
        """The dotted name that ``[compare] ignore`` matches against."""
        if self.setting is not None:
            return f"{self.component}.{self.setting}"
        if self.part is not None:
            return f"{self.component}.{self.part}"
        return self.component


def _kind(old: Any, new: Any) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    return "modified"


def _prompt_detail(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    old_eol, new_eol = str(old.get("eol")), str(new.get("eol"))
    if old_eol == new_eol:
        return None
    endings = f"{EOL_NAMES.get(old_eol, old_eol)} → {EOL_NAMES.get(new_eol, new_eol)}"
    if old.get("text") == new.get("text"):
        return f"line endings changed ({endings}); the text is otherwise the same"
    return f"content and line endings changed ({endings})"


def _prompts(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    old_files, new_files = old.get("files", {}), new.get("files", {})
    changes = []
    for path in sorted(set(old_files) | set(new_files)):
        before, after = old_files.get(path), new_files.get(path)
        if before is not None and after is not None:
            if before.get("digest") == after.get("digest"):
                continue
            detail = _prompt_detail(before, after)
        else:
            detail = None
        changes.append(Change("prompts", _kind(before, after), path, detail=detail))
    return changes


def item_counts(old: dict[str, str], new: dict[str, str]) -> dict[str, int]:
    added = sum(1 for key in new if key not in old)
    removed = sum(1 for key in old if key not in new)
    changed = sum(1 for key, digest in new.items() if key in old and old[key] != digest)
    return {"added": added, "removed": removed, "changed": changed}


def _datasets(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if not isinstance(before, dict) and before is not None:
            continue
        if before is None or after is None:
            entry = before or after or {}
            count = int(entry.get("count", 0))
            items = {
                "added": count if after else 0,
                "removed": 0 if after else count,
                "changed": 0,
            }
            changes.append(Change("datasets", _kind(before, after), path, items=items))
            continue
        if before.get("digest") == after.get("digest"):
            continue
        detail = None
        if before.get("id_field") != after.get("id_field"):
            detail = (
                f"items are keyed by {after.get('id_field')!r} instead of "
                f"{before.get('id_field')!r}, so item counts compare different keys"
            )
        items = item_counts(before.get("items", {}), after.get("items", {}))
        changes.append(Change("datasets", "modified", path, items=items, detail=detail))
    return changes


def settings_diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(set(old) | set(new)):
        if key == "digest" or isinstance(old.get(key, new.get(key)), dict):
            continue
        before, after = old.get(key), new.get(key)
        if before != after:
            rows.append({"setting": key, "old": before, "new": after})
    return rows


def _checkpoint(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    source = str(new.get("source") or old.get("source") or "checkpoint")
    for key in ("hf_repo", "hf_revision"):
        if old.get(key) != new.get(key):
            changes.append(
                Change(
                    "checkpoint",
                    _kind(old.get(key), new.get(key)),
                    setting=key,
                    old=old.get(key),
                    new=new.get(key),
                )
            )
    for part in PARTS:
        before, after = old.get(part, {}), new.get(part, {})
        if before.get("digest") == after.get("digest"):
            continue
        old_files, new_files = before.get("files", {}), after.get("files", {})
        settings = settings_diff(before.get("settings", {}), after.get("settings", {}))
        for name in sorted(set(old_files) | set(new_files)):
            if old_files.get(name) == new_files.get(name):
                continue
            detail = None
            if (
                part == "tokenizer"
                and before.get("chat_template") != after.get("chat_template")
                and is_chat_template_file(name)
            ):
                detail = "the chat template changed"
            changes.append(
                Change(
                    "checkpoint",
                    _kind(old_files.get(name), new_files.get(name)),
                    f"{source}/{name}",
                    part=part,
                    detail=detail,
                    settings=settings if name == f"{part}.json" else [],
                )
            )
    return changes


def _flat(component: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Setting-level changes, one level of nesting flattened with dots."""

    def flatten(table: dict[str, Any]) -> dict[str, Any]:
        flat: dict[str, Any] = {}
        for key, value in table.items():
            if key == "digest":
                continue
            if isinstance(value, dict):
                for sub, inner in value.items():
                    flat[f"{key}.{sub}"] = inner
            else:
                flat[key] = value
        return flat

    before, after = flatten(old), flatten(new)
    changes = []
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            changes.append(
                Change(
                    component,
                    _kind(before.get(key), after.get(key)),
                    setting=key,
                    old=before.get(key),
                    new=after.get(key),
                )
            )
    return changes


def _scorer(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = _flat("scorer", old, new)
    named = []
    for change in changes:
        eval_name = (change.setting or "").split(".")[0]
        entry = new.get(eval_name) or old.get(eval_name) or {}
        path = entry.get("source") if isinstance(entry, dict) else None
        named.append(Change(**{**change.__dict__, "path": path}))
    return named


def compare_locks(
    old: dict[str, Any], new: dict[str, Any], components: Iterable[str]
) -> list[Change]:
    """Return every change from *old* to *new* within *components*."""
    changes: list[Change] = []
    for component in components:
        before, after = old.get(component), new.get(component)
        if before is None and after is None:
            continue
        before, after = before or {}, after or {}
        if before.get("digest") == after.get("digest") and component != "datasets":
            continue
        if component == "prompts":
            changes += _prompts(before, after)
        elif component == "datasets":
            changes += _datasets(before, after)
        elif component == "checkpoint":
            changes += _checkpoint(before, after)
        elif component == "scorer":
            changes += _scorer(before, after)
        elif component in ("engine", "sampling"):
            changes += _flat(
                component, before.get("settings", {}), after.get("settings", {})
            )
        else:
            changes += _flat(component, before, after)
    return changes


def reformatted_datasets(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Datasets whose bytes changed while every item stayed the same."""
    before, after = old.get("datasets", {}), new.get("datasets", {})
    return sorted(
        path
        for path in set(before) & set(after)
        if before[path].get("digest") == after[path].get("digest")
        and before[path].get("file") != after[path].get("file")
    )
