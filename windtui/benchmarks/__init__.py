"""``windtui bench``: user-rerunnable benchmarks. Each module contributes named figures.

A benchmark module exposes ``BENCHMARKS: dict[str, Callable[[], list[Figure]]]``; the CLI runs the
selected ones, prints every figure with its budget (and baseline/ratio where there is one) and
exits non-zero when a figure misses its budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure; ``budget_kind``: lower (``max``) or higher (``min``) is good."""

    name: str
    value: float
    unit: str
    budget: float
    budget_kind: str = "max"  # "max": value must be <= budget; "min": value must be >= budget
    baseline: float | None = None
    ratio: float | None = None
    skipped: str | None = None  # why it was not measured (e.g. no PostgreSQL server): not a miss

    @property
    def ok(self) -> bool:
        """True when the figure meets its budget (or was skipped)."""
        if self.skipped is not None:
            return True
        return self.value <= self.budget if self.budget_kind == "max" else self.value >= self.budget

    def as_dict(self) -> dict[str, object]:
        """The JSON shape printed by ``windtui bench --json``."""
        data = asdict(self)
        data["ok"] = self.ok
        return data


Benchmark = Callable[[], list[Figure]]


def registry() -> dict[str, Benchmark]:
    """Every benchmark by name, in run order (imported lazily: no Textual when not needed)."""
    from windtui.benchmarks import console, kpi, sla, store

    return {**sla.BENCHMARKS, **store.BENCHMARKS, **console.BENCHMARKS, **kpi.BENCHMARKS}
