"""The store benchmark runs end to end on a small fleet (figures only; no timing asserted)."""

from __future__ import annotations

import pytest

from windtui.benchmarks import registry, store


def test_store_benchmark_reports_its_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "TICKETS", 300)
    monkeypatch.setattr(store, "CHANGED", 10)
    monkeypatch.setattr(store, "WRITES", 20)
    figures = store.bench_store_load()
    assert [f.name for f in figures] == [
        "open_tickets_10k_ms",
        "changed_since_100_ms",
        "write_p95_ms",
        "populate_10k_ms",
    ]
    assert all(f.value >= 0 and f.unit == "ms" for f in figures)
    assert registry()["store_load"] is store.bench_store_load
