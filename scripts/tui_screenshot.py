"""Write docs/images/tui.svg (and tui.png when rsvg-convert is installed).

The picture shows the example history the UI tests use: four runs against a
baseline, one verdict each, with the newest run's drift explained.
Run with ``.venv/bin/python scripts/tui_screenshot.py``.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers.history import build_history, make_app  # noqa: E402

IMAGES = ROOT / "docs" / "images"


async def _capture(folder: Path) -> str:
    app = make_app(build_history(folder / "repo"))
    async with app.run_test(size=(110, 36)) as pilot:
        await pilot.press("end", "b", "home")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        return app.save_screenshot("tui.svg", str(IMAGES))


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        svg = asyncio.run(_capture(Path(folder)))
    print(f"wrote {svg}")
    converter = shutil.which("rsvg-convert")
    if converter is None:
        print("rsvg-convert is not installed (apt-get install librsvg2-bin); no PNG")
        return 0
    # rsvg collapses the runs of no-break spaces that Textual writes between
    # styled spans unless whitespace is preserved on the root element.
    text = Path(svg).read_text().replace("<svg ", '<svg xml:space="preserve" ', 1)
    png = IMAGES / "tui.png"
    subprocess.run([converter, "-o", str(png)], input=text.encode(), check=True)
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
