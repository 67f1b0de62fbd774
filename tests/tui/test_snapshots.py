"""SVG snapshots of the UI screens; update them with ``--snapshot-update``."""

from __future__ import annotations

from typing import Any

from helpers.history import make_app
from textual.pilot import Pilot

from evallock.gitrepo import Project

SIZE = (110, 36)


async def _settle(pilot: Pilot[None]) -> None:
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_snapshot_list_with_baseline(snap_compare: Any, history: Project) -> None:
    async def choose_baseline(pilot: Pilot[None]) -> None:
        await pilot.press("end", "b", "home")
        await _settle(pilot)

    assert snap_compare(
        make_app(history), terminal_size=SIZE, run_before=choose_baseline
    )


def test_snapshot_compare_screen(snap_compare: Any, history: Project) -> None:
    async def open_comparison(pilot: Pilot[None]) -> None:
        await pilot.press("end", "space", "up", "space", "c")
        await _settle(pilot)

    assert snap_compare(
        make_app(history), terminal_size=SIZE, run_before=open_comparison
    )


def test_snapshot_help_screen(snap_compare: Any, history: Project) -> None:
    async def open_help(pilot: Pilot[None]) -> None:
        await _settle(pilot)
        await pilot.press("question_mark")

    assert snap_compare(make_app(history), terminal_size=SIZE, run_before=open_help)
