"""The terminal UI driven by Textual's pilot over a real stored history."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.history import IDS, make_app
from helpers.runs import locked_project
from textual.pilot import Pilot
from textual.widgets import Input, Static, Tree

from evallock.gitrepo import Project
from evallock.tui.app import EvalLockApp
from evallock.tui.runlist import RunList
from evallock.tui.screens import CompareScreen, HelpScreen

pytestmark = pytest.mark.anyio

SIZE = (110, 36)


async def _settle(pilot: Pilot[None]) -> None:
    """Wait for the detail timer and every worker thread to finish."""
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _runs(app: EvalLockApp) -> RunList:
    return app.runs_screen.query_one(RunList)


def _text(widget: Static) -> str:
    return str(widget.render())


async def test_tui_lists_runs_newest_first(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE):
        model = _runs(app).model
        assert [model.run_at(i).id for i in range(len(model))] == IDS


async def test_tui_arrow_keys_move_cursor(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down", "up")
        assert _runs(app).cursor == 1
        await pilot.press("end")
        assert _runs(app).cursor == 3
        await pilot.press("home")
        assert _runs(app).cursor == 0


async def test_tui_baseline_sets_verdicts(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("end", "b")
        model = _runs(app).model
        assert model.baseline_run is not None
        assert model.baseline_run.id == "a1b2c3d4"
        verdicts = [model.row(i).verdict for i in range(4)]
        assert verdicts == [
            "drifted",
            "comparable on subset?",
            "comparable",
            "baseline",
        ]


async def test_tui_baseline_delta_worded(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("end", "b")
        row = _runs(app).model.row(2)
        assert row.delta == "+0.1000"
        assert row.delta_style == "green"


async def test_tui_baseline_pressed_twice_clears(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", "b")
        assert _runs(app).model.baseline_run is None


async def test_tui_selection_settles_subset(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("end", "b", "home", "down")
        await _settle(pilot)
        assert _runs(app).model.row(1).verdict == "comparable on subset"


async def test_tui_detail_tree_explains_drift(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("end", "b", "home")
        await _settle(pilot)
        tree = app.runs_screen.query_one(Tree)
        labels = [str(node.label) for node in tree.root.children]
        assert labels[0] == "verdict against baseline a1b2c3d4: drifted"
        engine = next(
            node for node in tree.root.children if "engine" in str(node.label)
        )
        assert "drifted: 1 change" in str(engine.label)
        assert "engine setting max_num_seqs (64 → 8)" in str(engine.children[0].label)


async def test_tui_detail_counts_items(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("end", "b", "home", "down")
        await _settle(pilot)
        tree = app.runs_screen.query_one(Tree)
        datasets = next(
            node for node in tree.root.children if "datasets" in str(node.label)
        )
        assert "items added 3, removed 0" in str(datasets.children[0].label)


async def test_tui_space_marks_two_runs(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "down", "space", "down", "space")
        marked = [run.id for run in _runs(app).model.marked_runs]
        assert marked == ["c3d4e5f6", "b2c3d4e5"]


async def test_tui_compare_opens_side_by_side(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "space", "down", "space", "c")
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert screen.result is not None
        assert screen.result.a == "b2c3d4e5"
        assert screen.result.verdict == "comparable on subset"
        assert [item.key for item in screen.result.items] == ["add-0017"]


async def test_tui_compare_escape_returns(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "down", "space", "c")
        await _settle(pilot)
        await pilot.press("escape")
        assert app.screen is app.runs_screen


async def test_tui_compare_needs_two_marks(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("space", "c")
        assert app.screen is app.runs_screen
        messages = [note.message for note in app._notifications]
        assert "mark two runs with space to compare them (1 marked)" in messages


async def test_tui_filter_keeps_matching(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await pilot.press(*"b2c3d4e", "enter")
        model = _runs(app).model
        assert len(model) == 1
        assert model.run_at(0).id == "b2c3d4e5"
        assert app.focused is _runs(app)


async def test_tui_filter_by_verdict_word(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("end", "b", "slash", *"drifted", "enter")
        model = _runs(app).model
        assert [model.run_at(i).id for i in range(len(model))] == ["d4e5f6a7"]


async def test_tui_filter_escape_keeps_list(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", "x", "escape")
        assert len(_runs(app).model) == 4
        assert not app.runs_screen.query_one(Input).has_class("shown")


async def test_tui_help_opens_and_closes(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.screen is app.runs_screen


async def test_tui_q_quits(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert app._exit is True


async def test_tui_status_line_matches_lock(history: Project) -> None:
    app = make_app(history)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        status = app.runs_screen.query_one("#status", Static)
        assert _text(status) == "✓ the working tree matches eval.lock"


async def test_tui_status_line_names_drift(tmp_path: Path) -> None:
    project = locked_project(tmp_path / "repo")
    (Path(project.root) / "prompts/system.txt").write_text("Changed.\n")
    app = make_app(project)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        status = _text(app.runs_screen.query_one("#status", Static))
        assert "differs from eval.lock in 1 place(s): prompts/system.txt" in status


async def test_tui_empty_store_says_so(tmp_path: Path) -> None:
    app = make_app(locked_project(tmp_path / "repo"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "b", "space", "c")
        tree = app.runs_screen.query_one(Tree)
        assert "no stored runs yet" in str(tree.root.label)
