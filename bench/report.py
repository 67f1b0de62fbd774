"""Rendering benchmark results into docs/benchmarks.md.

Only the text between BEGIN and END is rewritten, so hand-written sections
of the page (analysis, other benchmarks) survive every run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

BEGIN = "<!-- bench/run.py writes from here to the end marker; edit bench/ instead -->"
END = "<!-- end of the section written by bench/run.py -->"
TITLE = "# Benchmarks\n"
MIB = 1024 * 1024


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"


def _row(
    what: str,
    subject: str,
    reference: str,
    ratio: float,
    target: str,
    met: bool,
    note: str = "",
) -> str:
    verdict = "yes" if met else "**no**"
    shown = f"{ratio:.2f}×{note}"
    return f"| {what} | {subject} | {reference} | {shown} | {target} | {verdict} |"


def _cpu(comparison: dict[str, Any]) -> str:
    return f" (CPU time {comparison['cpu_ratio']:.2f}×)"


def _lock_rows(data: dict[str, Any]) -> list[str]:
    xxh, md5 = data["vs_xxhsum"], data["vs_md5sum"]
    speedup = 1 / md5["ratio"]
    return [
        _row(
            "`evallock lock`, 2 GiB weights, empty stat cache",
            _seconds(xxh["subject"]["median_s"]),
            f"`xxhsum -H2`: {_seconds(xxh['reference']['median_s'])}",
            xxh["ratio"],
            "≤ 1.05×",
            xxh["ratio"] <= 1.05,
            note=_cpu(xxh),
        ),
        _row(
            "`evallock lock`, same file",
            _seconds(md5["subject"]["median_s"]),
            f"`md5sum`: {_seconds(md5['reference']['median_s'])}",
            md5["ratio"],
            "≤ 0.10× (≥ 10× faster)",
            speedup >= 10,
            note=f" ({speedup:.1f}× faster; CPU time {md5['cpu_ratio']:.2f}×)",
        ),
    ]


def _verify_rows(data: dict[str, Any]) -> list[str]:
    comparison = data["vs_git_status"]
    return [
        _row(
            f"`evallock verify`, warm stat cache, {data['prompt_files']:,} prompt "
            "files + 2 GiB weights",
            _seconds(comparison["subject"]["median_s"]),
            f"`git status`: {_seconds(comparison['reference']['median_s'])}",
            comparison["ratio"],
            "≤ 2×",
            comparison["ratio"] <= 2,
            note=_cpu(comparison),
        ),
    ]


def _memory_rows(data: dict[str, Any]) -> list[str]:
    return [
        _row(
            "peak memory (max RSS) of `evallock lock`, 4 GiB weights",
            f"{data['subject_kib'] / 1024:.1f} MiB",
            f"1 MiB weights: {data['reference_kib'] / 1024:.1f} MiB",
            data["ratio"],
            "≤ 1.1×",
            data["ratio"] <= 1.1,
        ),
    ]


def _store_rows(data: dict[str, Any]) -> list[str]:
    return [
        _row(
            f"storing one run of {data['items']:,} items on the results ref",
            _seconds(data["subject"]["median_s"]),
            f"`git add` + `git commit`: {_seconds(data['reference']['median_s'])}",
            data["ratio"],
            "≤ 2×",
            data["ratio"] <= 2,
        ),
    ]


def _run_rows(data: dict[str, Any]) -> list[str]:
    bare = f"bare `vllm.LLM` script: {_seconds(data['reference']['median_s'])}"
    rows = [
        _row(
            f"`evallock run` on the bundled example ({data['items']} items)",
            _seconds(data["subject"]["median_s"]),
            bare,
            data["ratio"],
            "≤ 1.05×",
            data["ratio"] <= 1.05,
            note=_cpu(data),
        ),
    ]
    if "overhead_s" in data:
        rows.append(
            _row(
                "the same, as bare script + evallock's own time around its worker",
                f"+{_seconds(data['overhead_s'])}",
                bare,
                data["overhead_ratio"],
                "≤ 1.05×",
                data["overhead_ratio"] <= 1.05,
            )
        )
    return rows


ROWS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "lock": _lock_rows,
    "verify": _verify_rows,
    "memory": _memory_rows,
    "store": _store_rows,
    "run": _run_rows,
}


def _machine(machines: list[dict[str, Any]]) -> list[str]:
    if not machines:
        return []
    latest = max(machines, key=lambda m: m["date"])
    dates = sorted({m["date"] for m in machines})
    return [
        "## Machine",
        "",
        f"- measured on {', '.join(dates)}, commit {latest['evallock_commit']} "
        "plus the working tree",
        f"- {latest['cores']} CPU cores ({latest['cpu']}), "
        f"{latest['memory_gib']} GiB memory, GPU: {latest['gpu']}",
        f"- {latest['os']}, Python {latest['python']}, {latest['git']}, "
        f"{latest['hyperfine']}, {latest['xxhsum'].strip()}",
        "",
    ]


def render(results: Path) -> str:
    rows: list[str] = []
    machines: list[dict[str, Any]] = []
    for name, build in ROWS.items():
        path = results / f"{name}.json"
        if not path.is_file():
            rows.append(f"| {name}: not measured yet | | | | | |")
            continue
        data = json.loads(path.read_text())
        machines.append(data["machine"])
        rows.extend(build(data))
    table = [
        "## Results",
        "",
        "| what | evallock (median) | reference in the same run (median) | ratio "
        "| target | met |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    return "\n".join([BEGIN, "", *_machine(machines), *table, END])


def write(page: Path, results: Path) -> None:
    """Replace the generated section of *page*, creating the page if needed."""
    block = render(results)
    text = (
        page.read_text() if page.is_file() else TITLE + "\n" + BEGIN + "\n" + END + "\n"
    )
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + "\n\n" + BEGIN + "\n" + END + "\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    page.write_text(head + block + tail)
