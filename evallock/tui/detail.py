"""The selected run's components as a tree, with differences marked and explained.

Against a baseline, each component is marked by what the comparison made of
its changes: drifted, under test, dataset items differ, or ignored. Without
a baseline, the drift the run recorded against ``eval.lock`` is marked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from evallock import compare
from evallock.drift import Change
from evallock.store import Run
from evallock.tui.model import VERDICT_STYLES

# Role of a change in a comparison: (mark, word, style). Marks are words too.
ROLES = {
    "drift": ("✗", "drifted", "bold red"),
    "under_test": ("~", "under test", "cyan"),
    "datasets": ("±", "items differ", "yellow"),
    "ignored": ("≈", "ignored", "dim"),
    "recorded": ("✗", "drifted from eval.lock when run", "bold red"),
}
SAME = ("✓", "same", "green")


@dataclass
class Node:
    """One tree entry: its label and children."""

    label: Text
    children: list[Node] = field(default_factory=list)
    expand: bool = False


def _changes_by_component(
    comparison: compare.Comparison | None, run: Run
) -> dict[str, list[tuple[str, Change]]]:
    found: dict[str, list[tuple[str, Change]]] = {}
    if comparison is None:
        for data in run.record.get("drift") or []:
            change = _change_from_json(data)
            found.setdefault(change.component, []).append(("recorded", change))
        return found
    for role in ("drift", "under_test", "datasets", "ignored"):
        for change in getattr(comparison, role):
            component = "datasets" if compare.is_dataset_change(change) else None
            key = component or change.component
            found.setdefault(key, []).append((role, change))
    return found


def _change_from_json(data: dict[str, Any]) -> Change:
    known = {
        "component",
        "kind",
        "path",
        "setting",
        "old",
        "new",
        "items",
        "part",
        "detail",
        "settings",
    }
    values = {key: value for key, value in data.items() if key in known}
    values.setdefault("component", "unknown")
    values.setdefault("kind", "modified")
    return Change(**values)


def component_nodes(run: Run, comparison: compare.Comparison | None) -> list[Node]:
    """Tree entries for every component of *run*, marked against *comparison*."""
    changes = _changes_by_component(comparison, run)
    nodes = []
    for component in compare.COMPONENTS:
        table = run.lock.get(component)
        if not isinstance(table, dict):
            continue
        found = changes.get(component, [])
        node = Node(_component_label(component, table, found, comparison is not None))
        node.children = [_change_node(role, change) for role, change in found]
        node.children += _content_nodes(component, table)
        node.expand = bool(found)
        nodes.append(node)
    return nodes


def _component_label(
    component: str,
    table: dict[str, Any],
    found: list[tuple[str, Change]],
    compared: bool,
) -> Text:
    size = _size_text(component, table)
    if not found:
        mark, word, style = SAME if compared else ("·", "", "")
        label = Text(f"{mark} ", style=style)
        label.append(component, style="bold")
        label.append(f"  {size}" + (f", {word}" if word else ""), style="dim")
        return label
    roles = [role for role, _ in found]
    worst = next(
        r
        for r in ("drift", "recorded", "datasets", "under_test", "ignored")
        if r in roles
    )
    mark, word, style = ROLES[worst]
    label = Text(f"{mark} ", style=style)
    label.append(component, style="bold " + style)
    count = len(found)
    label.append(f"  {word}: {count} change{'s' if count != 1 else ''}", style=style)
    label.append(f"  ({size})", style="dim")
    return label


def _size_text(component: str, table: dict[str, Any]) -> str:
    if component == "prompts":
        return f"{len(table.get('files', {}))} files"
    if component == "datasets":
        total = sum(
            int(entry.get("count", 0))
            for entry in table.values()
            if isinstance(entry, dict)
        )
        return f"{len(table)} file{'s' if len(table) != 1 else ''}, {total} items"
    if component == "checkpoint":
        return str(table.get("source", ""))
    if component in ("engine", "sampling"):
        return f"{len(table.get('settings', {}))} settings"
    entries = [key for key in table if key != "digest"]
    return f"{len(entries)} entries"


def _change_node(role: str, change: Change) -> Node:
    mark, word, style = ROLES[role]
    label = Text(f"{mark} {word}: ", style=style)
    label.append(compare.describe(change))
    children = [
        Node(Text(f"{row['setting']}: {row['old']!r} → {row['new']!r}"))
        for row in change.settings
    ]
    return Node(label, children)


def _content_nodes(component: str, table: dict[str, Any]) -> list[Node]:
    if component == "prompts":
        return [
            Node(Text(f"{path}  ({facts.get('eol', '?')} line endings)", style="dim"))
            for path, facts in sorted(table.get("files", {}).items())
        ]
    if component == "datasets":
        return [
            Node(
                Text(
                    f"{path}  {entry.get('count')} items, keyed by "
                    f"{entry.get('id_field')}",
                    style="dim",
                )
            )
            for path, entry in sorted(table.items())
            if isinstance(entry, dict)
        ]
    if component == "checkpoint":
        return [
            Node(Text(f"{part}: {len(entry.get('files', {}))} files", style="dim"))
            for part, entry in table.items()
            if isinstance(entry, dict)
        ]
    if component in ("engine", "sampling"):
        return _setting_nodes(table.get("settings", {}))
    return _setting_nodes({k: v for k, v in table.items() if k != "digest"})


def _setting_nodes(settings: dict[str, Any]) -> list[Node]:
    return [
        Node(Text(f"{key} = {_short(value)}", style="dim"))
        for key, value in sorted(settings.items())
    ]


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, dict) else "{…}"
    return text if len(text) <= 60 else text[:59] + "…"


def _leaf(text: str, style: str = "") -> Node:
    return Node(Text(text, style=style))


def record_node(run: Run) -> Node:
    """Build the node of the run's own facts: scores, prefix cache, noise, source."""
    record = run.record
    children = [
        _leaf(
            f"{name}: {entry.get('score', 0):.4f} on {entry.get('count')} items "
            f"({entry.get('scorer')})"
        )
        for name, entry in record.get("evals", {}).items()
    ]
    cache = record.get("prefix_cache") or {}
    hits, queries = cache.get("hits"), cache.get("queries")
    children.append(_leaf(f"prefix cache: {hits} hits in {queries} queries"))
    noise = record.get("noise")
    if isinstance(noise, dict):
        low, high = noise.get("score_min", 0), noise.get("score_max", 0)
        repeats = noise.get("repeats")
        children.append(_leaf(f"noise band: {low:.4f}..{high:.4f} over {repeats} runs"))
    source = record.get("source") or {}
    commit = (source.get("commit") or "no commit")[:12]
    dirty = " (dirty)" if source.get("dirty") else ""
    children.append(_leaf(f"source: {commit}{dirty}"))
    return Node(Text("record", style="bold"), children, expand=True)


def verdict_node(comparison: compare.Comparison, baseline_id: str) -> Node:
    """Build the node of the verdict against the baseline, with its reasons."""
    label = Text("verdict against baseline ")
    label.append(baseline_id, style="bold")
    label.append(": ")
    label.append(comparison.verdict, style=VERDICT_STYLES.get(comparison.verdict, ""))
    children = [_leaf(reason) for reason in comparison.reasons]
    delta = comparison.delta
    if delta is not None:
        children.append(
            _leaf(
                f"delta {delta.delta:+.4f} [{delta.low:+.4f}, {delta.high:+.4f}] "
                f"p = {delta.p_value:.3g} on {delta.items} shared items"
            )
        )
    noise = comparison.noise
    if noise is not None and noise.within:
        children.append(
            _leaf(f"the delta is within the noise band of {noise.band:.4f}", "yellow")
        )
    return Node(label, children, expand=True)
