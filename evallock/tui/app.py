"""The evallock terminal UI: stored runs, their verdicts, and comparisons.

The list comes from one ``git log`` of run summaries. Full runs (record,
items and lock) are read in a worker thread only for the highlighted run,
after the cursor rests, and for the two runs of a comparison. Checking the
working tree against ``eval.lock`` also runs in a worker, so the first
paint never waits for hashing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static, Tree
from textual.widgets.tree import TreeNode

from evallock import compare, locking, store
from evallock.drift import Change
from evallock.errors import EvalLockError
from evallock.gitrepo import Project
from evallock.store import Run, RunSummary
from evallock.tui.detail import Node, component_nodes, record_node, verdict_node
from evallock.tui.model import RunListModel
from evallock.tui.runlist import RunList, header_text
from evallock.tui.screens import CompareScreen, HelpScreen

# The detail pane loads a run this long after the cursor stops, so holding
# an arrow key does not read every run it passes.
DETAIL_DELAY_S = 0.15
CACHED_RUNS = 8
# The first paint shows only this many newest runs, more than a screen
# contains. A worker reads the rest, because parsing 10,000 summaries takes
# about a second (see docs/benchmarks.md).
FIRST_PAGE = 200


def first_page(project: Project) -> tuple[list[RunSummary], bool]:
    """Read the newest runs for the first paint; also return whether that is all."""
    runs = store.list_runs(project, limit=FIRST_PAGE)
    return runs, len(runs) < FIRST_PAGE


class RunsScreen(Screen[None]):
    """Browse stored runs, pick a baseline, and compare two runs."""

    BINDINGS = [
        Binding("b", "baseline", "baseline"),
        Binding("space", "mark", "mark"),
        Binding("c", "compare", "compare"),
        Binding("slash", "filter", "filter"),
    ]
    DEFAULT_CSS = """
    RunsScreen #title { height: 1; background: $primary; color: $text; padding: 0 1; }
    RunsScreen #columns { height: 1; padding: 0 0; color: $text-muted; }
    RunsScreen #detail { height: 45%; border-top: solid $primary; }
    RunsScreen #filter { display: none; }
    RunsScreen #filter.shown { display: block; }
    RunsScreen #status { height: 1; padding: 0 1; background: $panel; }
    """

    def __init__(
        self,
        project: Project,
        policy: compare.Policy,
        runs: list[RunSummary],
        complete: bool = True,
    ) -> None:
        super().__init__()
        self.project = project
        self.policy = policy
        self.model = RunListModel(runs, policy)
        self.complete = complete
        self._loaded: OrderedDict[str, Run] = OrderedDict()
        # GitPython's Repo keeps one `git cat-file` process per repository,
        # which garbles replies when two threads read at once, so every
        # worker reads the repository under this lock.
        self.git_lock = threading.Lock()
        self._detail_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield Static(header_text(), id="columns")
        yield RunList(self.model, id="runs")
        yield Tree(Text("no run selected"), id="detail")
        yield Input(
            placeholder="filter: id, date, checkpoint, commit or verdict", id="filter"
        )
        yield Static(Text("checking the working tree against eval.lock …"), id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RunList).focus()
        self.update_title()
        # Both workers start after the first frame: reading 10,000 summaries
        # holds the GIL for about a second and would delay the paint.
        self.call_after_refresh(self.check_lock)
        if not self.complete:
            self.call_after_refresh(self.read_all_runs)
        if not len(self.model):
            self.query_one(Tree).root.set_label(
                Text("no stored runs yet; start one with `evallock run`")
            )

    def update_title(self) -> None:
        model = self.model
        text = Text("evallock", style="bold")
        shown = f"{len(model)} of {len(model.runs)}" if model.filter_text else None
        more = "" if self.complete else "+ (reading the rest)"
        text.append(f"  {shown or len(model.runs)}{more} runs")
        if model.filter_text:
            text.append(f" matching {model.filter_text!r}")
        base = model.baseline_run
        text.append("  baseline: ")
        text.append(base.id if base else "none (press b)", style="bold")
        marked = ", ".join(run.id for run in model.marked_runs) or "none (press space)"
        text.append(f"  marked: {marked}")
        self.query_one("#title", Static).update(text)

    @work(thread=True, exclusive=True, group="lock")
    def check_lock(self) -> None:
        try:
            with self.git_lock:
                outcome = locking.verify(self.project)
        except EvalLockError as error:
            text = Text(f"eval.lock cannot be checked: {error}", style="yellow")
        else:
            text = _lock_status(outcome.changes)
        self.app.call_from_thread(self.query_one("#status", Static).update, text)

    @work(thread=True, exclusive=True, group="list")
    def read_all_runs(self) -> None:
        try:
            with self.git_lock:
                runs = store.list_runs(self.project)
        except EvalLockError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        self.app.call_from_thread(self._show_all_runs, runs)

    def _show_all_runs(self, runs: list[RunSummary]) -> None:
        runs_widget = self.query_one(RunList)
        current = self.model.run_at(runs_widget.cursor) if len(self.model) else None
        self.model.replace_runs(runs)
        self.complete = True
        runs_widget.reload()
        if current is not None:
            runs_widget.cursor = self.model.position_of_commit(current.commit) or 0
        self.update_title()

    @on(RunList.Highlighted)
    def schedule_detail(self, message: RunList.Highlighted) -> None:
        if self._detail_timer is not None:
            self._detail_timer.stop()
        position = message.position
        self._detail_timer = self.set_timer(
            DETAIL_DELAY_S, lambda: self.load_detail(position)
        )

    @work(thread=True, exclusive=True, group="detail")
    def load_detail(self, position: int) -> None:
        if position >= len(self.model):
            return
        summary = self.model.run_at(position)
        baseline = self.model.baseline_run
        try:
            run = self.load_run(summary)
            comparison = None
            if baseline is not None and baseline.id != summary.id:
                comparison = compare.compare_runs(
                    self.load_run(baseline), run, self.policy
                )
        except EvalLockError as error:
            self.app.call_from_thread(self._show_error, summary.id, str(error))
            return
        self.app.call_from_thread(self._show_detail, run, baseline, comparison)

    def load_run(self, summary: RunSummary) -> Run:
        """Read a full run, or reuse one of the last few read; safe in threads."""
        with self.git_lock:
            run = self._loaded.get(summary.commit)
            if run is None:
                run = store.load_summary(self.project, summary)
                self._loaded[summary.commit] = run
                while len(self._loaded) > CACHED_RUNS:
                    self._loaded.popitem(last=False)
        return run

    def _show_error(self, run_id: str, message: str) -> None:
        tree = self.query_one(Tree)
        tree.clear()
        tree.root.set_label(Text(f"run {run_id}: {message}", style="bold red"))

    def _show_detail(
        self,
        run: Run,
        baseline: RunSummary | None,
        comparison: compare.Comparison | None,
    ) -> None:
        tree: Tree[None] = self.query_one(Tree)
        tree.clear()
        score = run.record.get("score")
        label = Text(f"run {run.id}", style="bold")
        if isinstance(score, (int, float)):
            label.append(f"  score {score:.4f}")
        label.append(f"  {run.record.get('created', '')}", style="dim")
        tree.root.set_label(label)
        nodes: list[Node] = []
        if comparison is not None and baseline is not None:
            nodes.append(verdict_node(comparison, baseline.id))
            self.model.settle(run.id, baseline.id, comparison.verdict)
            self.query_one(RunList).refresh_rows()
        nodes += component_nodes(run, comparison)
        nodes.append(record_node(run))
        for node in nodes:
            _add(tree.root, node)
        tree.root.expand()

    def action_baseline(self) -> None:
        if not len(self.model):
            return
        runs = self.query_one(RunList)
        self.model.set_baseline(runs.cursor)
        self.update_title()
        runs.refresh_rows()
        self.load_detail(runs.cursor)

    def action_mark(self) -> None:
        if not len(self.model):
            return
        runs = self.query_one(RunList)
        self.model.toggle_mark(runs.cursor)
        self.update_title()
        runs.refresh_rows()

    def action_compare(self) -> None:
        # Oldest first, so that the delta reads as B (newer) minus A.
        marked = [self.model.runs[i] for i in sorted(self.model.marked, reverse=True)]
        if len(marked) != 2:
            self.notify(
                f"mark two runs with space to compare them ({len(marked)} marked)",
                severity="warning",
            )
            return
        self.app.push_screen(CompareScreen(self.load_run, self.policy, *marked))

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.add_class("shown")
        field.value = self.model.filter_text
        field.focus()

    @on(Input.Submitted, "#filter")
    def apply_filter(self, message: Input.Submitted) -> None:
        self.model.apply_filter(message.value)
        self._close_filter()
        runs = self.query_one(RunList)
        runs.reload()
        self.update_title()
        if len(self.model):
            runs.cursor = 0

    def on_key(self, event: events.Key) -> None:
        field = self.query_one("#filter", Input)
        if event.key == "escape" and field.has_class("shown"):
            self._close_filter()

    def _close_filter(self) -> None:
        self.query_one("#filter", Input).remove_class("shown")
        self.query_one(RunList).focus()


def _add(parent: TreeNode[None], node: Node) -> None:
    if not node.children:
        parent.add_leaf(node.label)
        return
    branch = parent.add(node.label, expand=node.expand)
    for child in node.children:
        _add(branch, child)


def _lock_status(changes: list[Change]) -> Text:
    if not changes:
        return Text("✓ the working tree matches eval.lock", style="bold green")
    names = ", ".join(sorted({change.path or change.name for change in changes}))
    return Text(
        f"✗ the working tree differs from eval.lock in {len(changes)} place(s): "
        f"{names}; run `evallock verify`",
        style="bold red",
    )


class EvalLockApp(App[None]):
    """The terminal UI over one project's stored runs."""

    TITLE = "evallock"
    BINDINGS = [
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(
        self,
        project: Project,
        policy: compare.Policy,
        runs: list[RunSummary],
        complete: bool = True,
    ) -> None:
        super().__init__()
        self.runs_screen = RunsScreen(project, policy, runs, complete)

    def get_default_screen(self) -> Screen[None]:
        return self.runs_screen

    def action_help(self) -> None:
        self.push_screen(HelpScreen())
