"""windtui — a keyboard-first terminal console for wind-turbine after-sales service desks."""

__version__ = "0.1.0"
