"""Copying: OSC 52 to the terminal, and inside tmux what tmux will do with it.

OSC 52 is the only way to a clipboard over SSH, but tmux passes an application's OSC 52 on
only with `set-clipboard on` (its default, `external`, drops it): there the copy claimed
success while nothing arrived. So inside tmux the text also goes into tmux's own buffer
(`tmux load-buffer -w -`: `-w` has tmux itself set the outer terminal's clipboard, which
its default allows), and the note says how to make plain OSC 52 work.

No widgets here: the tmux commands run on threads of their own and only set plain values.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping

TMUX_TIMEOUT = 2.0  # seconds: a wedged tmux server must not hold a copy up for long
FIX = "add `set -g set-clipboard on` to ~/.tmux.conf"

Run = Callable[[list[str], str | None], str | None]


def run_tmux(args: list[str], text: str | None = None) -> str | None:
    """`tmux ARGS` (with `text` on stdin): its output, or None when it failed."""
    tmux = shutil.which("tmux")
    if tmux is None:
        return None
    try:
        done = subprocess.run(
            [tmux, *args],
            input=text,
            capture_output=True,
            text=True,
            timeout=TMUX_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


class Clipboard:
    """What a copy needs to know about where it runs, asked once at start (`probe`)."""

    def __init__(self, env: Mapping[str, str] | None = None, run: Run = run_tmux) -> None:
        self.in_tmux = bool((os.environ if env is None else env).get("TMUX"))
        self.run = run
        self.setting: str | None = None  # tmux's set-clipboard, once the probe answered
        self.probed = threading.Event()
        if not self.in_tmux:
            self.probed.set()

    def probe(self) -> None:
        """Ask tmux for its set-clipboard on a thread: the UI never waits for tmux."""
        if self.probed.is_set():
            return
        threading.Thread(target=self._probe, name="orgtree-tmux-probe", daemon=True).start()

    def _probe(self) -> None:
        try:
            out = self.run(["show", "-gv", "set-clipboard"], None)
            self.setting = out.strip() if out is not None else None
        finally:
            self.probed.set()

    @property
    def osc52_reaches(self) -> bool:
        """False inside tmux unless tmux is known to pass OSC 52 on."""
        return not self.in_tmux or self.setting == "on"

    def advice(self) -> str:
        """What the note adds after a copy ("" when OSC 52 is known to arrive)."""
        if self.osc52_reaches:
            return ""
        setting = self.setting or "unknown"
        return (
            f"tmux has set-clipboard {setting}: the copy may not reach your clipboard; "
            f"it is in tmux's buffer too (prefix ] pastes). To fix: {FIX}."
        )

    def to_tmux_buffer(self, text: str, done: Callable[[bool], None] | None = None) -> None:
        """Inside tmux without set-clipboard on: into tmux's buffer, on a thread."""
        if self.osc52_reaches:
            return

        def load() -> None:
            # -w (tmux 3.2+) also sets the outer clipboard; older tmux refuses the flag.
            ok = self.run(["load-buffer", "-w", "-"], text) is not None
            ok = ok or self.run(["load-buffer", "-"], text) is not None
            if done is not None:
                done(ok)

        threading.Thread(target=load, name="orgtree-tmux-buffer", daemon=True).start()
