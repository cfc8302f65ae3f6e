"""``windtui bench console``: the dispatch console with 10,000 open tickets on the demo farms.

Figures (budgets from the issue):

* ``first_paint_s`` — headless ``run_test``: from constructing the app to the first frame written
  after the tickets are installed, i.e. the first full frame with data (≤ 1 s).
* ``tick_cpu_ms`` — CPU (``time.process_time``) of one 1 Hz tick plus its repaint, encoded to the
  bytes a terminal would get (≤ 10 ms); the baseline is a Textual ``DataTable`` with the same 10k
  rows updating its visible clock cells, measured the same way.
* ``keystroke_p95_ms`` — p95 over move, page, open detail and filter keys of the time from sending
  the key (``pilot.press``) to the first frame written after it, encoded to terminal bytes
  (≤ 50 ms). Pilot's own idle waits (≥ 2 × 20 ms of sleeping per key) are not the console's
  latency, so the frame timestamp is used, not the wall time of ``pilot.press``. The debounced
  live filter adds one sample per filter applied: from its timer firing to its frame.
* ``idle_bytes_per_s`` — bytes/s the running console writes to a REAL pty at 160×50 with
  TERM=xterm-256color, steady state over ~10 s, live clock (a frozen ``--now`` would trivially
  send nothing); the baseline is the DataTable doing its 1 Hz ``update_cell`` through a pty.

The 10k tickets are bulk-inserted through the store models into a temporary SQLite file that
already holds the demo fleet (farms, turbines, technicians).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import tempfile
import termios
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from windtui.benchmarks import Figure

TICKETS = 10_000
SIZE = (160, 50)
PTY_SETTLE_S = 4.0
PTY_MEASURE_S = 10.0


def build_database(folder: Path, now: datetime, count: int = TICKETS) -> tuple[str, int]:
    """A SQLite file with the demo fleet and ``count`` synthetic open tickets; (url, open count)."""
    from windtui.services.demo import load_demo
    from windtui.services.desk import Desk
    from windtui.services.synthetic import populate

    url = f"sqlite:///{folder / 'bench.db'}"
    desk = Desk.open(url, now=now, actor="bench")
    try:
        load_demo(desk, "en")
        populate(desk, count, now=now)
        return url, len(desk.open_tickets())
    finally:
        desk.close()


class FrameLog:
    """Time-stamps every frame an app writes, after encoding it as the real driver would.

    Headless apps skip the encoding step (``App._display`` returns early), which would hide the
    cost of turning a compositor update into terminal bytes; this wrapper does it for them.
    """

    def __init__(self, app: Any) -> None:
        self.times: list[float] = []
        self.sizes: list[int] = []
        self.screens: list[int] = []
        """``id`` of the screen each frame showed."""
        self.full: list[bool] = []
        """Whether each frame repainted the whole screen (not only dirty spans)."""
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None or screen is not app.screen or app._batch_count:
                return
            if hasattr(renderable, "render_segments"):
                text = renderable.render_segments(app.console)
            else:
                text = app.console._render_buffer(app.console.render(renderable))
            self.sizes.append(len(text.encode()))
            self.screens.append(id(screen))
            self.full.append(not hasattr(renderable, "chops"))
            self.times.append(time.perf_counter())

        app._display = display

    def first(self, mark: int) -> float | None:
        """Time of the first frame after the first ``mark`` frames, or None."""
        return self.times[mark] if len(self.times) > mark else None

    def first_full(self, mark: int, screen: object) -> float | None:
        """Time of the first full frame of ``screen`` after the first ``mark`` frames, or None.

        A key that switches screens has answered when the new screen is painted whole; a
        partial frame written while switching does not show it yet.
        """
        for n in range(mark, len(self.times)):
            if self.full[n] and self.screens[n] == id(screen):
                return self.times[n]
        return None


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def _headless(url: str, now: datetime) -> dict[str, float]:
    """First paint, tick CPU and keystroke latency of the console, headless."""
    from textual.widgets import Input

    # A blinking cursor would write frames of its own while the filter line is open.
    blink = Input._toggle_cursor
    Input._toggle_cursor = lambda _self: None  # type: ignore[method-assign]
    try:
        return await _measure(url, now)
    finally:
        Input._toggle_cursor = blink  # type: ignore[method-assign]


async def _measure(url: str, now: datetime) -> dict[str, float]:
    """The headless figures, with the cursor blink off."""
    from windtui.services.desk import Desk
    from windtui.tui.app import WindApp

    clock_now = [now]
    desk = Desk.open(url, now=now, actor="bench")
    started = time.perf_counter()
    app = WindApp(desk, clock=lambda: clock_now[0], live=False)
    frames = FrameLog(app)
    loaded_at: list[int] = []
    install = app._install

    def installed(*args: Any) -> None:
        install(*args)
        loaded_at.append(len(frames.times))  # frames before this one show no tickets yet

    app._install = installed  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        while not loaded_at or len(frames.times) <= loaded_at[0]:
            await asyncio.sleep(0.001)
        first_paint = frames.times[loaded_at[0]] - started
        await pilot.pause()
        ticks = []
        for _n in range(20):
            clock_now[0] += timedelta(seconds=1)
            cpu = time.process_time()
            app.tick()
            await pilot.pause()
            ticks.append((time.process_time() - cpu) * 1000)
        keys: list[float] = []

        async def timed(*press: str) -> None:
            mark = len(frames.times)
            before = app.screen
            t = time.perf_counter()
            await pilot.press(*press)
            await pilot.pause()  # any repaint still pending is written now
            switched = app.screen is not before
            written = frames.first_full(mark, app.screen) if switched else frames.first(mark)
            keys.append(((written if written is not None else time.perf_counter()) - t) * 1000)

        async def filter_applied() -> None:
            """One sample per debounced live filter: its timer firing to its frame."""
            queue = app.main.queue
            for _attempt in range(200):
                if queue.filter_applied_at is not None:
                    break
                await asyncio.sleep(0.01)
            await pilot.pause()
            fired = queue.filter_applied_at
            mark = frames.times
            if fired is not None:
                after = [f for f in mark if f >= fired]
                keys.append(((after[0] if after else time.perf_counter()) - fired) * 1000)

        for key in ["j"] * 20 + ["pagedown"] * 5 + ["k"] * 10 + ["pageup"] * 3:
            await timed(key)
        for _n in range(3):
            await timed("enter")  # open the detail screen
            await app.workers.wait_for_complete()
            await timed("escape")
            await timed("slash")
            await timed("p")
            await timed("colon")
            await timed("1")  # the live filter over 10k tickets applies after this keystroke
            await filter_applied()
            await timed("enter")
            await timed("escape")
        app.exit()
    desk.close()
    return {
        "first_paint_s": first_paint,
        "tick_cpu_ms": sorted(ticks)[len(ticks) // 2],
        "keystroke_p95_ms": _p95(keys),
    }


_DATATABLE_APP = r"""
import sys, time
from datetime import timedelta
from textual.app import App
from textual.widgets import DataTable

ROWS = int(sys.argv[1])

class Naive(App):
    def compose(self):
        yield DataTable(id="t")
    def on_mount(self):
        t = self.query_one(DataTable)
        t.add_column("Due", key="due", width=10)
        for k in ("No.", "P", "Farm", "Category", "Title", "State", "Owner"):
            t.add_column(k, key=k)
        for i in range(ROWS):
            t.add_row(str(i * 37 % 5000), str(100000 + i), "P2", "DBC-A07", "Fault",
                      f"Synthetic fault {i}", "On site", "wangjg", key=str(i))
        self.n = 0
        self.set_interval(1.0, self.tick)
    def tick(self):
        self.n += 1
        t = self.query_one(DataTable)
        top = int(t.scroll_y)
        cpu = time.process_time()
        for row in range(top, top + t.size.height):
            t.update_cell(str(row), "due", f"0:{(row * 7 + self.n) % 60:02d}:{self.n % 60:02d}")
        self.cpu = time.process_time() - cpu

Naive().run(mouse=False)
"""


def _pty_bytes(argv: list[str], env: dict[str, str]) -> float:
    """Bytes/s a program writes to a 160×50 pty in steady state (after it settles)."""
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its terminal
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    counted = 0
    start = time.monotonic()
    measuring_from = start + PTY_SETTLE_S
    end = measuring_from + PTY_MEASURE_S
    try:
        while (now := time.monotonic()) < end:
            ready, _w, _x = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if now >= measuring_from:
                counted += len(data)
    finally:
        _stop(pid, fd)
    return counted / PTY_MEASURE_S


# CSI sequences, OSC strings and two-byte escapes: what is left is the text on screen.
_ESCAPES = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\^_])")


def _pty_launch_to_paint(argv: list[str], env: dict[str, str], marker: str) -> float:
    """Seconds from starting the process to the terminal showing ``marker`` (a real user's wait).

    The marker is text that only the fully loaded screen shows (the header's open count), found
    in the pty output with escape sequences removed.
    """
    started = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its terminal
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    seen = b""
    target = marker.encode()
    elapsed = float("inf")
    try:
        while time.monotonic() - started < 30:
            ready, _w, _x = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if target in _ESCAPES.sub(b"", seen):
                elapsed = time.monotonic() - started
                break
    finally:
        _stop(pid, fd)
    return elapsed


def _stop(pid: int, fd: int) -> None:
    """End a pty child as a dropped SSH link would (SIGHUP), then reap it."""
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            select.select([fd], [], [], 0.1)
            os.read(fd, 65536)
        except OSError:
            pass
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)


def _pty_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    env.update(TERM="xterm-256color", COLUMNS=str(SIZE[0]), LINES=str(SIZE[1]), WINDTUI_LANG="en")
    env.pop("NO_COLOR", None)
    env.pop("COLORTERM", None)
    return env


def _naive_tick_cpu_ms(rows: int) -> float:
    """CPU per 1 Hz tick of the DataTable baseline (update visible cells + repaint), headless."""
    code = _DATATABLE_APP.replace("Naive().run(mouse=False)", "")
    namespace: dict[str, object] = {}
    sys_argv = sys.argv
    sys.argv = ["naive", str(rows)]
    try:
        exec(compile(code, "naive_datatable", "exec"), namespace)  # the same app as in the pty
    finally:
        sys.argv = sys_argv
    app = namespace["Naive"]()  # type: ignore[operator]
    FrameLog(app)  # its frames are encoded to terminal bytes too, as the console's are

    async def run() -> float:
        samples = []
        async with app.run_test(size=SIZE) as pilot:  # type: ignore[attr-defined]
            await pilot.pause()
            for _n in range(10):
                cpu = time.process_time()
                app.tick()  # type: ignore[attr-defined]
                await pilot.pause()
                samples.append((time.process_time() - cpu) * 1000)
        return sorted(samples)[len(samples) // 2]

    return asyncio.run(run())


def bench_console() -> list[Figure]:
    """Run every console figure (takes ~40 s: two real-pty runs of ~15 s)."""
    with tempfile.TemporaryDirectory(prefix="windtui-bench-") as tmp:
        # Relative to the real time so that the pty run, with a live clock, shows ticking clocks.
        now = datetime.now(UTC).replace(microsecond=0)
        url, open_count = build_database(Path(tmp), now)
        headless = asyncio.run(_headless(url, now))
        naive_tick = _naive_tick_cpu_ms(TICKETS)
        env = _pty_env()
        env["WINDTUI_NOW"] = ""
        console = [sys.executable, "-m", "windtui", "--db", url]
        launch_s = _pty_launch_to_paint(console, env, f"Open {open_count}")
        console_bps = _pty_bytes(console, env)
        script = Path(tmp) / "naive_datatable.py"
        script.write_text(_DATATABLE_APP)
        naive_bps = _pty_bytes([sys.executable, str(script), str(TICKETS)], env)
    tick = headless["tick_cpu_ms"]
    bytes_ratio = round(naive_bps / console_bps, 1) if console_bps else None
    return [
        Figure("console.first_paint_s", round(headless["first_paint_s"], 3), "s", 1.0),
        Figure("console.launch_to_paint_s", round(launch_s, 3), "s", 1.0),
        Figure("console.tick_cpu_ms", round(tick, 2), "ms", 10.0, baseline=round(naive_tick, 2),
               ratio=round(naive_tick / tick, 1) if tick else None),
        Figure("console.keystroke_p95_ms", round(headless["keystroke_p95_ms"], 1), "ms", 50.0),
        Figure("console.idle_bytes_per_s", round(console_bps), "B/s", 2048.0,
               baseline=round(naive_bps), ratio=bytes_ratio),
    ]  # fmt: skip


BENCHMARKS = {"console": bench_console}

if __name__ == "__main__":  # pragma: no cover - manual run
    for figure in bench_console():
        print(figure.as_dict())
