"""How long `q` takes to end the process mid-crawl: `orgtree-tui --demo` on a pty.

    python bench/quit_latency.py              # 5 runs
    python bench/quit_latency.py --runs 10

Each run starts the demo (its simulated endpoint has 100-200 ms of latency per call, so
calls are on the wire when q comes), waits for "crawling" and one more second, sends q and
measures, on `time.monotonic`, until the process has exited (`waitpid`). Prints one line
per run and the worst; exits 1 if the worst is over the target (0.5 s, issue 11). The tests
only check that the process ends while its calls are held (tests/ui/test_ui_lifecycle.py);
the duration is measured here, where a busy machine is not a failure of the code.
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import sys
import tempfile
import time

TARGET = 0.5  # seconds from q to the process gone


def one_run(root: str) -> float:
    with tempfile.TemporaryDirectory() as cache_dir:
        env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        env["ORGTREE_TUI_CACHE_DIR"] = cache_dir
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(root)  # `python -m` puts the working directory first on the path
            os.execvpe(sys.executable, [sys.executable, "-m", "orgtree_tui", "--demo"], env)
        try:
            seen = b""
            deadline = time.monotonic() + 60
            while b"crawling" not in seen and time.monotonic() < deadline:
                if select.select([fd], [], [], 0.1)[0]:
                    seen += _read(fd)
            if b"crawling" not in seen:
                raise SystemExit("the demo never started crawling")
            time.sleep(1.0)  # well into the crawl: calls in flight
            os.write(fd, b"q")
            quit_at = time.monotonic()
            while time.monotonic() - quit_at < 30:
                if select.select([fd], [], [], 0.005)[0]:
                    _read(fd)
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    return time.monotonic() - quit_at
            raise SystemExit("the app was still running 30 s after q")
        finally:
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            os.close(fd)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    times = []
    for run in range(1, args.runs + 1):
        took = one_run(root)
        times.append(took)
        print(f"run {run}: q -> exit {took:.3f} s")
    worst = max(times)
    print(f"worst {worst:.3f} s (target {TARGET} s)")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
