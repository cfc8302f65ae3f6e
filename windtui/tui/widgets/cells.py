"""Cell-width text helpers shared by the line widgets (CJK-safe: widths are terminal cells)."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size

from windtui.domain.model import Clock, ClockState, Target
from windtui.safetext import visible

ELLIPSIS = "…"
HOUR = 3600


def fit(text: str, width: int, align: str = "left") -> str:
    """Crop or pad ``text`` to exactly ``width`` cells; cropped text ends with an ellipsis.

    Terminal controls and bidi characters are shown by :func:`windtui.safetext.visible` first:
    the cells go out as raw segments, and an ESC there would reach the terminal.
    """
    if width <= 0:
        return ""
    text = visible(text)
    size = cell_len(text)
    if size > width:
        # set_cell_size never splits a double-width glyph; it pads with a space instead.
        return set_cell_size(text, width - 1) + ELLIPSIS
    pad = " " * (width - size)
    return pad + text if align == "right" else text + pad


def hms(seconds: float) -> str:
    """``h:mm:ss`` for a non-negative number of seconds (hours are not wrapped into days)."""
    total = int(seconds)
    hours, rest = divmod(total, HOUR)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def coarse(seconds: float) -> str:
    """``3h12m`` or ``4d07h``: the far-from-breach form that changes at most once a minute."""
    minutes = int(seconds) // 60
    hours, mins = divmod(minutes, 60)
    if hours >= 100:
        days, hrs = divmod(hours, 24)
        return f"{days}d{hrs:02d}h"
    return f"{hours}h{mins:02d}m"


def format_remaining(remaining: float | None, *, seconds_within: float | None = None) -> str:
    """Time left: seconds only under an hour; counting up (``+0:12:03``) once breached.

    Far from breach the text changes once a minute, so a 1 Hz repaint has nothing to send.
    ``seconds_within`` (the list panes pass :data:`HOUR`) also drops the seconds from clocks
    breached longer ago than that (``+19h30m``): on a desk with many long-breached tickets every
    such line would otherwise be resent every second, and no dispatcher acts on the seconds of a
    breach that is hours old. The detail screen keeps the exact count (the default).
    """
    if remaining is None:
        return ""
    if remaining < 0:
        if seconds_within is not None and -remaining >= seconds_within:
            return "+" + coarse(-remaining)
        return "+" + hms(-remaining)
    if remaining < HOUR:
        return hms(remaining)
    return coarse(remaining)


def format_elapsed(seconds: float) -> str:
    """Time elapsed (turbine downtime): ``h:mm:ss`` up to a day, then ``2d03h``."""
    return hms(seconds) if seconds < 24 * HOUR else coarse(seconds)


_BAR_PARTS = " ▏▎▍▌▋▊▉█"


def percent_bar(percent: float | None, width: int) -> str:
    """A horizontal bar of ``width`` cells filled to ``percent`` (clamped to 0–100)."""
    if width <= 0:
        return ""
    share = max(0.0, min(100.0, percent or 0.0)) / 100.0
    eighths = round(share * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (_BAR_PARTS[part] if part and full < width else "")
    return bar.ljust(width)


LIVE_STATES = (ClockState.RUNNING, ClockState.AT_RISK, ClockState.BREACHED, ClockState.PAUSED)


def next_clock(clocks: tuple[Clock, ...], due_target: Target | None = None) -> Clock | None:
    """The clock a dispatcher should look at.

    The running clock named by ``due_target`` (the board's ``next_due``, which is also the queue's
    sort key, so what the row shows is what it is sorted by); else the running clock with the
    least time left; else the paused one. A stopped clock — met, or met late — never: a repair
    finished late is history, the report now due is not.
    """
    live = [
        c
        for c in clocks
        if c.started
        and c.met_at is None
        and c.state in LIVE_STATES
        and c.remaining_seconds is not None
    ]
    if due_target is not None:
        named = next((c for c in live if c.target is due_target), None)
        if named is not None:
            return named
    running = [c for c in live if c.state is not ClockState.PAUSED]
    pool = running or live
    if not pool:
        return None
    return min(pool, key=lambda c: c.remaining_seconds or 0.0)
