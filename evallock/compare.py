"""Whether two stored runs may be compared, and what their score delta means.

The verdict for runs A and B comes from the differences between their locks
(software and hardware included) and their records, after removing what
``[compare] ignore`` names:

    invalid               a record fails ``records.invalid_reasons``
    identical             nothing differs
    comparable            only what ``[compare] under_test`` names differs
    comparable on subset  datasets differ but share items, and nothing else
                          outside under_test differs; scores are recomputed
                          on the shared items
    drifted               anything else

Policy entries are component names (``checkpoint``), dotted names of a part
or setting (``checkpoint.weights``, ``hardware.driver``) or a component and a
file (``prompts.prompts/system.txt``). An entry covers every name below it.
Items are matched by their manifest key (the id field, or the content hash
for datasets without ids) with an equal item digest, and then by item
digest alone, never by position.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from evallock import config as config_module
from evallock import records, stats
from evallock.drift import Change, compare_locks
from evallock.gitrepo import Project
from evallock.store import Run

IDENTICAL = "identical"
COMPARABLE = "comparable"
SUBSET = "comparable on subset"
DRIFTED = "drifted"
INVALID = "invalid"
JSON_VERSION = 1

# Every component of a lock; unlike `verify`, comparisons include the
# environment, because software and hardware change outputs.
COMPONENTS = config_module.COMPONENTS


@dataclass(frozen=True)
class Policy:
    """The ``[compare]`` table: what may vary, and what is not compared."""

    under_test: tuple[str, ...] = ("checkpoint",)
    ignore: tuple[str, ...] = ()

    def is_under_test(self, change: Change) -> bool:
        return any(covers(entry, change) for entry in self.under_test)

    def is_ignored(self, change: Change) -> bool:
        return any(covers(entry, change) for entry in self.ignore)


def policy_of(project: Project) -> Policy:
    """Read ``[compare]`` from the project's current ``.evallock.toml``."""
    cfg = config_module.load(project.root)
    return Policy(under_test=cfg.under_test, ignore=cfg.ignore)


def covers(entry: str, change: Change) -> bool:
    """Check whether a policy entry names *change* or something that contains it."""
    names = [change.name]
    if change.path is not None:
        names.append(f"{change.component}.{change.path}")
    return any(name == entry or name.startswith(entry + ".") for name in names)


@dataclass(frozen=True)
class ItemChange:
    """One shared item whose output or score differs between the runs."""

    eval: str
    key: str
    output_a: str
    output_b: str
    score_a: float
    score_b: float

    def to_json(self) -> dict[str, Any]:
        return {
            "eval": self.eval,
            "key": self.key,
            "a": {"output": self.output_a, "score": self.score_a},
            "b": {"output": self.output_b, "score": self.score_b},
        }


@dataclass(frozen=True)
class Pairing:
    """Items of A and B matched by key and digest, grouped per evaluation."""

    pairs: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]
    only_a: list[tuple[str, str]]
    only_b: list[tuple[str, str]]

    @property
    def shared(self) -> int:
        return sum(len(group) for group in self.pairs.values())


@dataclass(frozen=True)
class Noise:
    """The band measured by ``run --repeat``, and whether a delta lies inside it."""

    band: float
    within: bool
    source: str


@dataclass
class Comparison:
    """Everything ``compare`` reports about runs A and B."""

    a: str
    b: str
    verdict: str
    reasons: list[str]
    policy: Policy
    under_test: list[Change] = field(default_factory=list)
    drift: list[Change] = field(default_factory=list)
    datasets: list[Change] = field(default_factory=list)
    ignored: list[Change] = field(default_factory=list)
    invalid: dict[str, list[str]] = field(default_factory=dict)
    score_a: float | None = None
    score_b: float | None = None
    shared: int = 0
    only_a: int = 0
    only_b: int = 0
    delta: stats.PairedDelta | None = None
    noise: Noise | None = None
    items: list[ItemChange] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Build the ``compare --format json`` document (see docs/file-formats.md)."""
        noise = None
        if self.noise is not None:
            noise = {
                "band": self.noise.band,
                "within": self.noise.within,
                "run": self.a if self.noise.source == "a" else self.b,
            }
        scores = None
        if self.score_a is not None and self.score_b is not None:
            scores = {"a": self.score_a, "b": self.score_b}
        return {
            "version": JSON_VERSION,
            "a": self.a,
            "b": self.b,
            "verdict": self.verdict,
            "reasons": self.reasons,
            "policy": {
                "under_test": list(self.policy.under_test),
                "ignore": list(self.policy.ignore),
            },
            "changes": {
                role: [change.to_json() for change in changes]
                for role, changes in (
                    ("under_test", self.under_test),
                    ("datasets", self.datasets),
                    ("drift", self.drift),
                    ("ignored", self.ignored),
                )
            },
            "invalid": self.invalid,
            "items": {
                "shared": self.shared,
                "only_a": self.only_a,
                "only_b": self.only_b,
            },
            "scores": scores,
            "delta": self.delta.to_json() if self.delta is not None else None,
            "noise": noise,
            "changed_items": [item.to_json() for item in self.items],
        }


def compare_runs(
    run_a: Run,
    run_b: Run,
    policy: Policy,
    resamples: int = stats.RESAMPLES,
    seed: int = stats.SEED,
) -> Comparison:
    """Give the verdict, the delta on shared items and the changed items."""
    invalid = {
        run.id: reasons
        for run in (run_a, run_b)
        if (reasons := records.invalid_reasons(run.record))
    }
    if invalid:
        reasons = [
            f"run {name} is invalid: {why}"
            for name, all_why in invalid.items()
            for why in all_why
        ]
        return Comparison(run_a.id, run_b.id, INVALID, reasons, policy, invalid=invalid)

    comparison = classify(run_changes(run_a, run_b), policy, run_a.id, run_b.id)
    pairing = pair_items(run_a, run_b)
    _settle_subset(comparison, pairing)
    _add_scores(comparison, pairing, resamples, seed)
    comparison.noise = noise_flag(run_a.record, run_b.record, comparison.delta)
    comparison.items = changed_items(pairing)
    return comparison


def run_changes(run_a: Run, run_b: Run) -> list[Change]:
    """List every difference between two runs: their locks, then their records."""
    changes = compare_locks(run_a.lock, run_b.lock, COMPONENTS)
    return changes + record_changes(run_a.record, run_b.record, changes)


# Resolved engine arguments that name where the checkpoint lies, not what it
# is. The lock's checkpoint digests already show whether it changed, and the
# same checkpoint in two checkouts must not count as drift.
LOCATION_ARGS = ("model", "tokenizer")


def record_changes(
    record_a: dict[str, Any], record_b: dict[str, Any], known: Sequence[Change]
) -> list[Change]:
    """Differences that only the records show: what vLLM actually resolved.

    A lock holds the configured engine settings; the record also holds the
    arguments vLLM resolved, which differ from the lock when a run overrode
    ``max_num_seqs``. Settings already reported from the locks are skipped.
    """
    seen = {change.name for change in known}
    seen.update(f"engine.{key}" for key in LOCATION_ARGS)
    found: list[Change] = []
    sections = (
        ("engine", "", record_a.get("engine_args"), record_b.get("engine_args")),
        ("engine", "topology.", record_a.get("topology"), record_b.get("topology")),
    )
    for component, prefix, old, new in sections:
        old, new = old or {}, new or {}
        for key in sorted(set(old) | set(new)):
            change = _setting_change(
                component, prefix + key, old.get(key), new.get(key)
            )
            if change is not None and change.name not in seen:
                found.append(change)
    applied = _setting_change(
        "sampling",
        "generation_config_applied",
        record_a.get("generation_config_applied"),
        record_b.get("generation_config_applied"),
    )
    if applied is not None:
        found.append(applied)
    return found


def _setting_change(component: str, setting: str, old: Any, new: Any) -> Change | None:
    if old == new:
        return None
    kind = "modified"
    if old is None:
        kind = "added"
    elif new is None:
        kind = "removed"
    return Change(
        component, kind, setting=setting, old=old, new=new, detail="as resolved by vLLM"
    )


def is_dataset_change(change: Change) -> bool:
    """Dataset content, or which dataset file an evaluation reads."""
    if change.component == "datasets":
        return True
    return change.component == "evals" and (change.setting or "").endswith(".dataset")


def classify(
    changes: Iterable[Change], policy: Policy, run_a: str, run_b: str
) -> Comparison:
    """Sort changes into ignored, under test, dataset and drift, and pick a verdict.

    A dataset change leaves the verdict "comparable on subset" until the
    items are paired; ``compare_runs`` settles it.
    """
    result = Comparison(run_a, run_b, IDENTICAL, [], policy)
    for change in changes:
        if policy.is_ignored(change):
            result.ignored.append(change)
        elif policy.is_under_test(change):
            result.under_test.append(change)
        elif is_dataset_change(change):
            result.datasets.append(change)
        else:
            result.drift.append(change)
    if result.drift:
        result.verdict = DRIFTED
        result.reasons = [
            f"{describe(c)} changed outside under_test" for c in result.drift
        ] + [describe(c) for c in result.datasets]
    elif result.datasets:
        result.verdict = SUBSET
        result.reasons = [describe(c) for c in result.datasets]
    elif result.under_test:
        result.verdict = COMPARABLE
        result.reasons = [f"{describe(c)} is under test" for c in result.under_test]
    else:
        result.reasons = ["every compared component matches"]
    return result


def _settle_subset(comparison: Comparison, pairing: Pairing) -> None:
    comparison.shared = pairing.shared
    comparison.only_a = len(pairing.only_a)
    comparison.only_b = len(pairing.only_b)
    if comparison.verdict != SUBSET:
        return
    if pairing.shared == 0:
        comparison.verdict = DRIFTED
        comparison.reasons.append("the two runs share no dataset items")
        return
    comparison.reasons.append(
        f"scores are recomputed on the {pairing.shared} items both runs scored "
        f"({comparison.only_a} only in {comparison.a}, "
        f"{comparison.only_b} only in {comparison.b})"
    )


def describe(change: Change) -> str:
    """Name a change in one phrase: component, part, file, setting and counts."""
    where = change.component
    if change.part is not None:
        where += f" {change.part}"
    if change.path is not None:
        where = {"datasets": "dataset", "prompts": "prompt"}.get(where, where + " file")
        where += f" {change.path}"
    if change.setting is not None:
        where += f" setting {change.setting} ({change.old!r} → {change.new!r})"
    text = f"{where} {change.kind}" if change.kind != "modified" else where
    if change.items is not None:
        counts = change.items
        text += (
            f" (items added {counts.get('added', 0)}, removed "
            f"{counts.get('removed', 0)}, changed {counts.get('changed', 0)})"
        )
    if change.detail:
        text += f": {change.detail}"
    return text


def _item_digest(run: Run, row: dict[str, Any]) -> str | None:
    digest = row.get("item_digest")
    if isinstance(digest, str):
        return digest
    dataset = run.lock.get("evals", {}).get(row.get("eval"), {}).get("dataset")
    manifest = run.lock.get("datasets", {}).get(dataset, {}).get("items", {})
    found = manifest.get(row.get("key"))
    return found if isinstance(found, str) else None


Row = dict[str, Any]
Pairs = dict[str, list[tuple[Row, Row]]]


def pair_items(run_a: Run, run_b: Run) -> Pairing:
    """Match the items of two runs by key and digest, then by digest alone."""
    pairs: Pairs = {}
    matched_b: set[tuple[str, str]] = set()
    unmatched_a = _pair_by_key(run_a, run_b, pairs, matched_b)
    only_a = _pair_by_digest(run_a, run_b, unmatched_a, pairs, matched_b)
    only_b = [
        (row["eval"], row["key"])
        for row in run_b.items
        if (row["eval"], row["key"]) not in matched_b
    ]
    return Pairing(pairs, only_a, only_b)


def _pair_by_key(
    run_a: Run, run_b: Run, pairs: Pairs, matched_b: set[tuple[str, str]]
) -> list[Row]:
    """Pair items with the same key and item digest; return A's unpaired rows."""
    by_key = {(row["eval"], row["key"]): row for row in run_b.items}
    unmatched_a: list[Row] = []
    for row in run_a.items:
        other = by_key.get((row["eval"], row["key"]))
        digest = _item_digest(run_a, row)
        if other is None or digest is None or digest != _item_digest(run_b, other):
            unmatched_a.append(row)
            continue
        pairs.setdefault(row["eval"], []).append((row, other))
        matched_b.add((other["eval"], other["key"]))
    return unmatched_a


def _pair_by_digest(
    run_a: Run,
    run_b: Run,
    unmatched_a: list[Row],
    pairs: Pairs,
    matched_b: set[tuple[str, str]],
) -> list[tuple[str, str]]:
    """Pair the rest by item digest within an eval; return A's unpaired items.

    This matches items whose key changed, as when a dataset keyed by content
    hash gains an id field.
    """
    by_digest: dict[tuple[str, str], Row] = {}
    for row in run_b.items:
        digest = _item_digest(run_b, row)
        if (row["eval"], row["key"]) not in matched_b and digest is not None:
            by_digest.setdefault((row["eval"], digest), row)
    only_a: list[tuple[str, str]] = []
    for row in unmatched_a:
        digest = _item_digest(run_a, row)
        other = by_digest.pop((row["eval"], digest), None) if digest else None
        if other is None:
            only_a.append((row["eval"], row["key"]))
            continue
        pairs.setdefault(row["eval"], []).append((row, other))
        matched_b.add((other["eval"], other["key"]))
    return only_a


def _add_scores(
    comparison: Comparison, pairing: Pairing, resamples: int, seed: int
) -> None:
    groups = [
        [(float(a["score"]), float(b["score"])) for a, b in group]
        for group in pairing.pairs.values()
    ]
    if not pairing.shared:
        return
    comparison.score_a = stats.grouped_mean([[a for a, _ in g] for g in groups])
    comparison.score_b = stats.grouped_mean([[b for _, b in g] for g in groups])
    comparison.delta = stats.paired_delta(groups, resamples, seed)


def noise_band(record: dict[str, Any]) -> float | None:
    """Score range across ``run --repeat`` attempts, or None without repeats."""
    noise = record.get("noise")
    if not isinstance(noise, dict):
        return None
    low, high = noise.get("score_min"), noise.get("score_max")
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)):
        return None
    return float(high) - float(low)


def noise_flag(
    record_a: dict[str, Any],
    record_b: dict[str, Any],
    delta: stats.PairedDelta | None,
) -> Noise | None:
    """Flag a delta no larger than the wider of the two runs' noise bands."""
    bands = [
        (band, name)
        for name, record in (("a", record_a), ("b", record_b))
        if (band := noise_band(record)) is not None
    ]
    if not bands or delta is None:
        return None
    band, source = max(bands)
    return Noise(band=band, within=abs(delta.delta) <= band, source=source)


def changed_items(pairing: Pairing) -> list[ItemChange]:
    """Shared items whose output or score differs, in run A's order."""
    changed: list[ItemChange] = []
    for group in pairing.pairs.values():
        for a, b in group:
            if a.get("output") == b.get("output") and a["score"] == b["score"]:
                continue
            changed.append(
                ItemChange(
                    eval=a["eval"],
                    key=a["key"],
                    output_a=str(a.get("output")),
                    output_b=str(b.get("output")),
                    score_a=float(a["score"]),
                    score_b=float(b["score"]),
                )
            )
    return changed


@dataclass(frozen=True)
class QuickVerdict:
    """A verdict from commit-message summaries alone, for listing many runs.

    ``settled`` is False when the summaries cannot decide: datasets differ
    (shared items are known only from the full runs), or a differing
    component is named by a dotted policy entry such as ``hardware.driver``.
    The verdict is then the one the components suggest, and ``compare_runs``
    on the full runs gives the final one.
    """

    verdict: str
    components: tuple[str, ...]
    settled: bool


def summary_invalid(data: dict[str, Any]) -> list[str]:
    """Reasons a summarised run is invalid, as far as its summary shows."""
    if "record_version" not in data:
        status = data.get("status")
        return (
            [] if status in (None, "valid") else [f"the record's status is {status!r}"]
        )
    return records.invalid_reasons(
        {key: data.get(key) for key in ("record_version", "prefix_cache", "status")}
        | {"invalid_reasons": data.get("invalid_reasons") or []}
    )


def differing_components(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Components whose summary digests differ (datasets compared per file)."""
    digests_a, digests_b = a.get("digests") or {}, b.get("digests") or {}
    return [name for name in COMPONENTS if digests_a.get(name) != digests_b.get(name)]


def summary_verdict(
    a: dict[str, Any], b: dict[str, Any], policy: Policy
) -> QuickVerdict:
    """Verdict for two runs from their summaries, without reading any blob."""
    # NOTE: summaries carry lock digests only, so two runs whose records
    # differ only in vLLM's resolved engine arguments read as identical here;
    # compare_runs reports them as drifted.
    if summary_invalid(a) or summary_invalid(b):
        return QuickVerdict(INVALID, (), True)
    differing = differing_components(a, b)
    settled = True
    remaining: list[str] = []
    for name in differing:
        if name in policy.ignore:
            continue
        dotted = [
            e for e in policy.ignore + policy.under_test if e.startswith(name + ".")
        ]
        # An evaluation that reads another dataset file is a dataset change,
        # which only the full locks can tell apart from other evals changes.
        renamed = name == "evals" and "datasets" in differing
        settled = settled and not dotted and not renamed
        remaining.append(name)
    drifted = [n for n in remaining if n not in policy.under_test and n != "datasets"]
    if drifted:
        return QuickVerdict(DRIFTED, tuple(remaining), settled)
    if "datasets" in remaining and "datasets" not in policy.under_test:
        return QuickVerdict(SUBSET, tuple(remaining), False)
    if remaining:
        return QuickVerdict(COMPARABLE, tuple(remaining), settled)
    return QuickVerdict(IDENTICAL, (), settled)
