"""A headless browser's view of the HTML report: screenshots for the docs and the tests.

Uses Debian's headless Chromium (``chromium-headless-shell``, or ``chromium``); nothing
is downloaded. :func:`find_browser` returns None where none is installed, and callers
skip.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["BROWSERS", "find_browser", "screenshot"]

#: Executables tried, in order.
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")


def find_browser() -> str | None:
    """The path of the first headless-capable Chromium on PATH, or None."""
    return next((b for b in map(shutil.which, BROWSERS) if b), None)


def screenshot(page: str | Path, png: str | Path, size: tuple[int, int] = (1280, 1600),
               browser: str | None = None) -> Path:
    """Render ``page`` in headless Chromium and save what a window of ``size`` shows.

    Parameters
    ----------
    page : str or Path
        An HTML file.
    png : str or Path
        Where the PNG goes.
    size : (int, int)
        Window width and height in CSS pixels (the screenshot is the window: a long page
        needs a tall one).
    browser : str, optional
        The executable; default :func:`find_browser`.

    Returns
    -------
    Path
        ``png``.

    Raises
    ------
    RuntimeError
        When no browser is installed or it writes no screenshot.
    """
    browser = browser or find_browser()
    if browser is None:
        raise RuntimeError(f"no headless Chromium found (tried {', '.join(BROWSERS)}); "
                           "install Debian's chromium-headless-shell")
    png = Path(png)
    # --no-sandbox: CI and containers run as root, where Chromium's sandbox refuses to start
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", f"--window-size={size[0]},{size[1]}",
                           f"--screenshot={png}", Path(page).resolve().as_uri()],
                          capture_output=True, text=True, timeout=180)
    if done.returncode != 0 or not png.is_file():
        raise RuntimeError(f"{browser} wrote no screenshot of {page} (exit "
                           f"{done.returncode}): {done.stderr[-500:]}")
    return png
