"""One compact way to write a duration, for the CLI, reports and anywhere else text needs it."""

from __future__ import annotations

from windtui.i18n import _


def compact(seconds: float | None) -> str:
    """A compact duration: ``2d04h``, ``3h05m``, ``12m``; negative for overdue; ``–`` for None."""
    if seconds is None:
        return "–"
    sign = "-" if seconds < 0 else ""
    total = int(abs(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        text = _("{days}d{hours:02d}h").format(days=days, hours=hours)
    elif hours:
        text = _("{hours}h{minutes:02d}m").format(hours=hours, minutes=minutes)
    else:
        text = _("{minutes}m").format(minutes=minutes)
    return sign + text
