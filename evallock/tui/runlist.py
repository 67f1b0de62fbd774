"""A virtual list of runs: only the rows on screen are ever rendered.

Textual's DataTable stores the cells of every row, so a new baseline would
mean updating the delta and verdict of every stored run. This list builds
rows from the model only for the lines on screen, through Textual's Line API.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from evallock.tui.model import Row, RunListModel

COLUMNS = (
    ("", 2),
    ("run", 10),
    ("created", 20),
    ("score", 8),
    ("delta", 9),
    ("verdict", 22),
    ("checkpoint", 0),
)


def header_text() -> Text:
    text = Text(style="bold")
    for title, width in COLUMNS:
        text.append(title.ljust(width) if width else title)
        text.append(" ")
    return text


def row_text(row: Row) -> Text:
    cells = (
        (row.mark, "bold yellow"),
        (row.id, "bold"),
        (row.created, ""),
        (row.score.rjust(7), ""),
        (row.delta.rjust(8), row.delta_style),
        (row.verdict, row.verdict_style),
        (row.checkpoint, "dim"),
    )
    text = Text(no_wrap=True, overflow="ellipsis")
    for (value, style), (_, width) in zip(cells, COLUMNS, strict=True):
        text.append(value.ljust(width)[: width or None] if width else value, style)
        text.append(" ")
    return text


class RunList(ScrollView, can_focus=True):
    """The scrolling list of stored runs, with a cursor."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "up", show=False),
        Binding("down", "cursor(1)", "down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home", "jump(0)", "first", show=False),
        Binding("end", "jump(-1)", "last", show=False),
    ]
    COMPONENT_CLASSES = {"runlist--cursor"}
    DEFAULT_CSS = """
    RunList { height: 1fr; }
    RunList > .runlist--cursor { background: $accent 40%; }
    RunList:focus > .runlist--cursor { background: $accent 70%; }
    """

    cursor: reactive[int] = reactive(0, always_update=True)

    class Highlighted(Message):
        """The cursor moved to another run."""

        def __init__(self, position: int) -> None:
            super().__init__()
            self.position = position

    def __init__(self, model: RunListModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Resize after the model's view changed; keep the cursor in range."""
        self.virtual_size = Size(self.size.width, len(self.model))
        self.cursor = max(0, min(self.cursor, len(self.model) - 1))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        position = self.scroll_offset.y + y
        width = self.size.width
        if position >= len(self.model):
            return Strip.blank(width, self.rich_style)
        text = row_text(self.model.row(position))
        base = self.rich_style
        if position == self.cursor:
            base += self.get_component_rich_style("runlist--cursor")
        text.stylize(Style(bgcolor=base.bgcolor))
        segments = list(text.render(self.app.console))
        return Strip(segments).crop_extend(0, width, base).simplify()

    def watch_cursor(self, old: int, new: int) -> None:
        if not len(self.model):
            return
        self.scroll_to(y=self._scroll_target(new), animate=False)
        self.refresh()
        self.post_message(self.Highlighted(new))

    def _scroll_target(self, position: int) -> float:
        top = self.scroll_offset.y
        height = max(1, self.scrollable_content_region.height)
        if position < top:
            return position
        if position >= top + height:
            return position - height + 1
        return top

    def action_cursor(self, step: int) -> None:
        self.cursor = max(0, min(len(self.model) - 1, self.cursor + step))

    def action_page(self, pages: int) -> None:
        height = max(1, self.scrollable_content_region.height)
        self.action_cursor(pages * height)

    def action_jump(self, position: int) -> None:
        self.cursor = position if position >= 0 else max(0, len(self.model) - 1)

    def refresh_rows(self) -> None:
        """Redraw after marks or the baseline changed."""
        self.refresh()
