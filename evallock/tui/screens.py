"""Screens over the run list: the side-by-side comparison and the key help."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Static

from evallock import compare
from evallock.compare_text import text_lines
from evallock.errors import EvalLockError
from evallock.store import Run, RunSummary
from evallock.tui.model import VERDICT_STYLES

KEYS = (
    ("↑ ↓ PgUp PgDn", "move through the runs"),
    ("b", "make the highlighted run the baseline (again to clear)"),
    ("space", "mark or unmark a run; two marks can be compared"),
    ("c", "compare the two marked runs side by side"),
    ("/", "filter by id, date, checkpoint, commit or verdict; Enter applies"),
    ("escape", "close a screen or the filter"),
    ("?", "this help"),
    ("q", "quit"),
)


class HelpScreen(ModalScreen[None]):
    """The keys and what they do."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Static { width: 86; height: auto; padding: 1 2;
                          border: round $accent; background: $surface; }
    """

    def compose(self) -> ComposeResult:
        text = Text("evallock keys\n\n", style="bold")
        for key, meaning in KEYS:
            text.append(f"{key:>14}  ", style="bold cyan")
            text.append(meaning + "\n")
        text.append(
            "\nVerdicts are words and colours: identical, comparable, comparable on "
            "subset, drifted, invalid. A trailing ? means the list could not decide "
            "from run summaries; select the run to settle it."
        )
        yield Static(text)


class CompareScreen(Screen[None]):
    """Two runs side by side: verdict, reasons, delta and changed items."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "back")]
    DEFAULT_CSS = """
    CompareScreen #summary { height: auto; max-height: 50%; padding: 0 1; }
    CompareScreen DataTable { height: 1fr; }
    """

    def __init__(
        self,
        load_run: Callable[[RunSummary], Run],
        policy: compare.Policy,
        a: RunSummary,
        b: RunSummary,
    ) -> None:
        super().__init__()
        self.load_run = load_run
        self.policy = policy
        self.pair = (a, b)
        self.result: compare.Comparison | None = None

    def compose(self) -> ComposeResult:
        a, b = self.pair
        with Vertical():
            yield Static(f"comparing A {a.id} with B {b.id} …", id="summary")
            yield DataTable(id="items", zebra_stripes=True, cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("item", "A output", "A", "B output", "B", "change")
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        a, b = self.pair
        try:
            result = compare.compare_runs(
                self.load_run(a), self.load_run(b), self.policy
            )
        except EvalLockError as error:
            self.app.call_from_thread(self.show_error, str(error))
            return
        self.app.call_from_thread(self.show, result)

    def show_error(self, message: str) -> None:
        self.query_one("#summary", Static).update(Text(message, style="bold red"))

    def show(self, result: compare.Comparison) -> None:
        self.result = result
        a, b = self.pair
        text = Text()
        text.append(f"A {a.id}   B {b.id}\n", style="bold")
        lines = text_lines(result, 0)
        verdict = lines[0].removeprefix("verdict: ")
        text.append("verdict: ")
        text.append(verdict, style=VERDICT_STYLES.get(result.verdict, ""))
        text.append(
            "\n"
            + "\n".join(
                line for line in lines[1:] if not line.startswith("changed items")
            )
        )
        self.query_one("#summary", Static).update(text)
        table = self.query_one(DataTable)
        for item in result.items:
            table.add_row(
                f"{item.eval}/{item.key}",
                item.output_a,
                f"{item.score_a:g}",
                item.output_b,
                f"{item.score_b:g}",
                _change_word(item),
                key=f"{item.eval}/{item.key}",
            )


def _change_word(item: compare.ItemChange) -> Text:
    if item.score_b > item.score_a:
        return Text("better", style="green")
    if item.score_b < item.score_a:
        return Text("worse", style="red")
    return Text("output only", style="yellow")
