"""Whether a graphical browser can be opened from here, and opening one.

Over SSH or in a container there is usually none, and Python's `webbrowser` would fall
back to a text browser (lynx, w3m) that takes over the very terminal the app runs in.
"""

from __future__ import annotations

import os
import sys
import webbrowser

TEXT_BROWSERS = frozenset({"lynx", "w3m", "links", "elinks", "www-browser", "browsh"})


def browser_available() -> bool:
    if sys.platform == "darwin" or os.name == "nt":
        return True
    if os.environ.get("BROWSER"):
        return os.path.basename(os.environ["BROWSER"].split(":")[0]) not in TEXT_BROWSERS
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    name = getattr(browser, "name", "") or ""
    return os.path.basename(name) not in TEXT_BROWSERS


def open_in_browser(url: str) -> bool:
    """Blocks while the browser starts: call it from a worker thread."""
    return webbrowser.open(url, new=2)
