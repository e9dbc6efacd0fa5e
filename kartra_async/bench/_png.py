"""PNG charts: the SVG rendered by a headless Chromium, when one is installed.

No imaging library is needed; without a browser the command says so and suggests ``.svg``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

#: Browsers tried in order (Debian's package is ``chromium``).
BROWSERS: Final = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
)


class PngUnavailable(RuntimeError):
    """No headless browser to render the PNG with, or it failed."""


def find_browser() -> str | None:
    """The first headless-capable browser on the PATH, or None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def svg_to_png(svg: str, target: Path, width: int, height: int, timeout: float = 60.0) -> None:
    """Render ``svg`` to ``target`` (``width`` × ``height`` pixels) with headless Chromium."""
    browser = find_browser()
    if browser is None:
        raise PngUnavailable(
            "a PNG chart needs Chromium (apt install chromium); write an .svg chart instead"
        )
    with tempfile.TemporaryDirectory(prefix="kartra-bench-") as workdir:
        source = Path(workdir) / "chart.svg"
        source.write_text(svg, encoding="utf-8")
        output = Path(workdir) / "chart.png"
        command = [
            browser,
            *_FLAGS,
            f"--user-data-dir={Path(workdir) / 'profile'}",
            f"--window-size={width},{height}",
            f"--screenshot={output}",
            source.as_uri(),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PngUnavailable(
                f"{Path(browser).name} failed to render the chart: {exc}"
            ) from None
        if not output.is_file() or output.stat().st_size == 0:
            raise PngUnavailable(f"{Path(browser).name} produced no PNG")
        shutil.copyfile(output, target)
