"""The run list behind the UI: filter, baseline, marks and row cells.

Nothing here imports Textual, so the bench and tests can drive it directly.
Rows are built from commit-message summaries only, on demand, for the rows
on screen: changing the baseline or moving the cursor costs work per visible
row, never per stored run. Applying a filter is the one step that visits
every run.
"""

from __future__ import annotations

from dataclasses import dataclass

from evallock import compare
from evallock.store import RunSummary

# Rich style of each verdict word in the list. The list always shows the
# word too, so colour is never the only signal.
VERDICT_STYLES = {
    compare.IDENTICAL: "green",
    compare.COMPARABLE: "cyan",
    compare.SUBSET: "yellow",
    compare.DRIFTED: "bold red",
    compare.INVALID: "bold magenta",
    "baseline": "bold",
    "": "dim",
}
MAX_MARKS = 2
# Cached rows: a few screens of rows for a couple of baselines.
MAX_CACHED_ROWS = 4096


@dataclass(frozen=True)
class Row:
    """The text of one list row, column by column."""

    mark: str
    id: str
    created: str
    score: str
    delta: str
    delta_style: str
    verdict: str
    verdict_style: str
    checkpoint: str


class RunListModel:
    """Stored runs as the list shows them, newest first."""

    def __init__(self, runs: list[RunSummary], policy: compare.Policy) -> None:
        self.runs = runs
        self.policy = policy
        self.view: list[int] = list(range(len(runs)))
        self.baseline: int | None = None
        self.marked: list[int] = []
        self.filter_text = ""
        self._rows: dict[tuple[int, int | None, bool], Row] = {}
        self._verdicts: dict[tuple[int, int], compare.QuickVerdict] = {}
        self.settled: dict[tuple[str, str], str] = {}

    def replace_runs(self, runs: list[RunSummary]) -> None:
        """Show a new list of runs, keeping baseline, marks and filter by commit."""
        where = {run.commit: index for index, run in enumerate(runs)}
        old = self.runs
        baseline = old[self.baseline].commit if self.baseline is not None else None
        self.baseline = where.get(baseline) if baseline is not None else None
        marks = (where.get(old[index].commit) for index in self.marked)
        self.marked = [index for index in marks if index is not None]
        self.runs = runs
        self._rows.clear()
        self._verdicts.clear()
        self.apply_filter(self.filter_text)

    def position_of_commit(self, commit: str) -> int | None:
        """Position in the filtered view of the run stored as *commit*."""
        for position, index in enumerate(self.view):
            if self.runs[index].commit == commit:
                return position
        return None

    def __len__(self) -> int:
        return len(self.view)

    def run_at(self, position: int) -> RunSummary:
        return self.runs[self.view[position]]

    def set_baseline(self, position: int) -> None:
        """Make the run at *position* the baseline, or clear it if it already is."""
        index = self.view[position]
        self.baseline = None if self.baseline == index else index

    @property
    def baseline_run(self) -> RunSummary | None:
        return self.runs[self.baseline] if self.baseline is not None else None

    def toggle_mark(self, position: int) -> None:
        """Mark or unmark a run; a third mark replaces the oldest one."""
        index = self.view[position]
        if index in self.marked:
            self.marked.remove(index)
        else:
            self.marked = [*self.marked, index][-MAX_MARKS:]

    @property
    def marked_runs(self) -> list[RunSummary]:
        return [self.runs[index] for index in self.marked]

    def verdict(self, index: int) -> compare.QuickVerdict | None:
        """Quick verdict of a run against the baseline, from summaries."""
        if self.baseline is None or index == self.baseline:
            return None
        key = (self.baseline, index)
        found = self._verdicts.get(key)
        if found is None:
            found = compare.summary_verdict(
                self.runs[self.baseline].data, self.runs[index].data, self.policy
            )
            self._verdicts[key] = found
        return found

    def settle(self, run_id: str, baseline_id: str, verdict: str) -> None:
        """Record the verdict of a full comparison, which replaces the quick one."""
        self.settled[(baseline_id, run_id)] = verdict
        self._rows.clear()

    def verdict_word(self, index: int) -> tuple[str, str]:
        """Return the verdict cell's text and style for the run at *index*."""
        if index == self.baseline:
            return "baseline", VERDICT_STYLES["baseline"]
        quick = self.verdict(index)
        if quick is None:
            return "", VERDICT_STYLES[""]
        baseline = self.runs[self.baseline or 0].id
        settled = self.settled.get((baseline, self.runs[index].id))
        if settled is not None:
            return settled, VERDICT_STYLES[settled]
        word = quick.verdict if quick.settled else quick.verdict + "?"
        return word, VERDICT_STYLES[quick.verdict]

    def row(self, position: int) -> Row:
        """Cells of the row at *position*, cached per run, baseline and mark."""
        index = self.view[position]
        key = (index, self.baseline, index in self.marked)
        cached = self._rows.get(key)
        if cached is not None:
            return cached
        if len(self._rows) >= MAX_CACHED_ROWS:
            self._rows.clear()
        row = self._build_row(index)
        self._rows[key] = row
        return row

    def _build_row(self, index: int) -> Row:
        run = self.runs[index]
        score = f"{run.score:.4f}" if run.score is not None else "n/a"
        delta, delta_style = self._delta(run)
        verdict, verdict_style = self.verdict_word(index)
        mark = "●" if index in self.marked else " "
        created = str(run.data.get("created", "?")).replace("T", " ").rstrip("Z")
        return Row(
            mark=mark,
            id=run.id,
            created=created,
            score=score,
            delta=delta,
            delta_style=delta_style,
            verdict=verdict,
            verdict_style=verdict_style,
            checkpoint=str(run.data.get("checkpoint") or ""),
        )

    def _delta(self, run: RunSummary) -> tuple[str, str]:
        base = self.baseline_run
        if base is None or base is run or base.score is None or run.score is None:
            return "", "dim"
        delta = run.score - base.score
        if delta == 0:
            return "±0", "dim"
        return f"{delta:+.4f}", "green" if delta > 0 else "red"

    def apply_filter(self, text: str) -> None:
        """Keep runs whose id, date, checkpoint, commit or verdict contain *text*."""
        self.filter_text = text.strip()
        needle = self.filter_text.lower()
        if not needle:
            self.view = list(range(len(self.runs)))
            return
        self.view = [
            index
            for index, run in enumerate(self.runs)
            if needle in self._search_text(index, run)
        ]

    def _search_text(self, index: int, run: RunSummary) -> str:
        data = run.data
        parts = [
            run.id,
            str(data.get("created", "")),
            str(data.get("checkpoint") or ""),
            str(data.get("source_commit") or ""),
            self.verdict_word(index)[0],
        ]
        return " ".join(parts).lower()
