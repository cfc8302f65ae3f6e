"""``windtui kpi`` on the demo: the table (statuses readable without colour), JSON, trends,
drill-down, rebuild, Chinese, and bad input as one line with the CLI's exit codes."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from windtui import cli
from windtui.domain import kpi as rules
from windtui.i18n import set_language

NOW = "2026-03-10T14:00:00+08:00"
ERROR_PREFIX = "windtui: error: "
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kpi") / "template.db"
    assert cli.main(["--db", f"sqlite:///{path}", "--now", NOW, "init", "--demo"]) == 0
    set_language("en")
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.db"
    shutil.copy(template, path)
    return path


@pytest.fixture
def run(db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.delenv("WINDTUI_ACTOR", raising=False)
    monkeypatch.setenv("WINDTUI_SYSTEM_CONFIG", str(db.parent / "no-system-config.toml"))

    def call(*args: str, lang: str = "en") -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = cli.main(["--db", f"sqlite:///{db}", "--now", NOW, "--lang", lang, *args])
        finally:
            set_language("en")
        out, err = capsys.readouterr()
        return code, out, err

    return call


def _error(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith(ERROR_PREFIX), err
    return err.removeprefix(ERROR_PREFIX).strip()


def test_table_shows_every_figure_with_target_and_status(run: Run) -> None:
    code, out, err = run("kpi")
    assert code == 0 and err == ""
    assert out.startswith("KPIs 2026Q1: 2026-01-01 … 2026-03-31 (Asia/Shanghai)")
    for spec in rules.DEFINITIONS.values():
        assert spec.label in out
    # statuses read without colour: a mark and a word
    assert "✓ met" in out and ("✗ missed" in out or "! at risk" in out)
    assert "≥ 95.0 %" in out and "≤ 1h00m" in out
    assert "Survey scores (4 and 5 count as satisfied)" in out
    assert "DBC" in out and "Availability" in out


def test_json_matches_the_drill_down(run: Run) -> None:
    code, out, _err = run("kpi", "--json", "--quarter", "2026Q1")
    assert code == 0
    data = json.loads(out)
    assert data["period"]["label"] == "2026Q1" and data["filters"] == {}
    figures = {f["key"]: f for f in data["figures"]}
    assert list(figures) == list(rules.DEFINITIONS)
    assert figures["closed_tickets"]["value"] > 0
    assert {f["status"] for f in data["figures"]} <= {s.value for s in rules.Status}
    for key in ("onsite_compliance", "fix_rate", "satisfaction_rate", "reopen_rate"):
        code, out, _err = run("kpi", "--quarter", "2026Q1", "--tickets", key)
        assert code == 0 and len(out.split()) == figures[key]["count"], key
        code, out, _err = run("kpi", "--quarter", "2026Q1", "--tickets", f"{key}:missed", "--json")
        listed = json.loads(out)
        assert listed["figure"] == f"{key}:missed" and listed["period"] == "2026Q1"
        assert len(listed["tickets"]) == figures[key]["missed"], key


def test_filters_narrow_the_figures(run: Run) -> None:
    _code, out, _err = run("kpi", "--json", "--quarter", "2026Q1")
    everything = {f["key"]: f for f in json.loads(out)["figures"]}
    code, out, _err = run("kpi", "--json", "--quarter", "2026Q1", "--farm", "DBC")
    assert code == 0
    data = json.loads(out)
    assert data["filters"] == {"farm": "DBC"} and [f["farm"] for f in data["farms"]] == ["DBC"]
    dbc = {f["key"]: f for f in data["figures"]}
    assert dbc["closed_tickets"]["value"] <= everything["closed_tickets"]["value"]
    code, out, _err = run("kpi", "--json", "--month", "2026-02", "--category", "fault")
    assert code == 0 and json.loads(out)["period"]["to"] == "2026-02-28"


def test_trend_table_and_json(run: Run) -> None:
    code, out, _err = run("kpi", "--quarter", "2026Q1", "--trend", "month")
    assert code == 0
    assert "Month" in out and "2026-01" in out and "2026-03" in out
    code, out, _err = run(
        "kpi", "--json", "--from", "2026-02-01", "--to", "2026-03-08", "--trend", "week"
    )
    trend = json.loads(out)["trend"]
    assert trend["every"] == "week" and trend["buckets"][0]["label"] == "2026-W05"
    assert len(trend["series"]["closed_tickets"]) == len(trend["buckets"])


def test_chinese(run: Run) -> None:
    code, out, _err = run("kpi", "--quarter", "2026Q1", lang="zh_CN")
    assert code == 0 and "按时确认" in out and "故障解决率" in out and "达标" in out


def test_rebuild_keeps_the_figures(run: Run) -> None:
    _code, before, _err = run("kpi", "--json", "--quarter", "2026Q1")
    code, out, _err = run("kpi", "--rebuild")
    assert code == 0 and out.startswith("outcomes rebuilt for ")
    _code, after, _err = run("kpi", "--json", "--quarter", "2026Q1")
    assert json.loads(before)["figures"] == json.loads(after)["figures"]


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--quarter", "2026Q5"], 2, "no such quarter '2026Q5'"),
        (["--month", "2026-13"], 2, "no such month"),
        (["--from", "2026-03-01", "--to", "2026-02-01"], 2, "is after --to"),
        (["--from", "2026-02-30"], 2, "cannot read the date"),
        (["--to", "2026-02-01"], 2, "--to needs --from"),
        (["--quarter", "2026Q1", "--month", "2026-01"], 2, "give one period"),
        (["--trend", "day"], 2, "invalid choice"),
        (["--farm", "NOPE"], 3, "farm NOPE not found"),
        (["--technician", "nobody"], 3, "technician nobody not found"),
        (["--team", "NOWHERE"], 3, "team NOWHERE not found"),
        (["--tickets", "happiness"], 3, "unknown KPI 'happiness'"),
        (["--category", "magic"], 4, "unknown category 'magic'"),
        (["--priority", "P9"], 4, "unknown priority 'P9'"),
        (["--as", "lizq"], 4, "KPIs"),
    ],
)
def test_bad_input_is_one_line(run: Run, args: list[str], code: int, words: str) -> None:
    if args[0] == "--as":
        got, out, err = run("--as", "lizq", "kpi")
    else:
        got, out, err = run("kpi", *args)
    assert got == code and out == ""
    assert words in _error(err)
