"""``windtui scorecard`` and ``windtui report`` on the hand-computed quarter of
``tests/audit_history.py``: the report's KPIs are the numbers of ``windtui kpi --json`` and its
scorecards those of ``windtui scorecard --json``; roles; Chinese; bad input is one line with its
exit code and leaves no file behind."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from audit_history import EXPECTED_ORDER, EXPECTED_TEAMS, EXPECTED_TOTALS, history
from conftest import NOW, seed_fleet

from windtui import cli
from windtui.i18n import set_language
from windtui.services.desk import Desk, os_login

NOW_ISO = "2025-03-03T10:00:00+08:00"
ERROR_PREFIX = "windtui: error: "
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """The quarter, written through the services by the OS login of this process (the CLI's
    identity: an administrator who is also dispatcher, QA and supervisor)."""
    path = tmp_path_factory.mktemp("report") / "template.db"
    desk = Desk.open(f"sqlite:///{path}", now=NOW, actor=os_login())
    try:
        seed_fleet(desk)
        numbers = history(desk)
    finally:
        desk.close()
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path, numbers


@pytest.fixture
def numbers(template: tuple[Path, dict[str, int]]) -> dict[str, int]:
    return template[1]


@pytest.fixture
def db(template: tuple[Path, dict[str, int]], tmp_path: Path) -> Path:
    path = tmp_path / "desk.db"
    shutil.copy(template[0], path)
    return path


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def run(db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.delenv("WINDTUI_ACTOR", raising=False)
    monkeypatch.delenv("WINDTUI_NOW", raising=False)
    monkeypatch.setenv("WINDTUI_SYSTEM_CONFIG", str(db.parent / "no-system-config.toml"))

    def call(*args: str, lang: str = "en") -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = cli.main(["--db", f"sqlite:///{db}", "--now", NOW_ISO, "--lang", lang, *args])
        finally:
            set_language("en")
        out, err = capsys.readouterr()
        return code, out, err

    return call


def _error(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith(ERROR_PREFIX), err
    return err.removeprefix(ERROR_PREFIX).strip()


def _csv_table(path: Path, key: str) -> list[dict[str, str]]:
    """The rows of the CSV table ``[key]`` as dicts by header."""
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"), newline="")))
    start = next(i for i, row in enumerate(rows) if row and row[0] == f"[{key}]")
    headers = rows[start + 1]
    found = []
    for row in rows[start + 2 :]:
        if not row:
            break
        found.append(dict(zip(headers, row, strict=True)))
    return found


def _float(text: str) -> float | None:
    return None if text == "" else float(text)


# -- the report ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "period", [["--quarter", "2025Q1"], ["--from", "2025-01-01", "--to", "2025-03-31"]]
)
def test_report_kpis_are_the_kpi_command_numbers(run: Run, out: Path, period: list[str]) -> None:
    code, printed, err = run("kpi", "--json", *period)
    assert code == 0, err
    expected = {f["key"]: f for f in json.loads(printed)["figures"]}
    target = out / "q1.csv"
    code, printed, err = run("report", *period, "-o", str(target))
    assert code == 0 and err == "" and printed.startswith("audit report ")
    assert printed.strip().endswith(f"written to {target}")
    rows = _csv_table(target, "kpis.figures")
    assert [r["Key"] for r in rows] == list(expected)
    for row in rows:
        figure = expected[row["Key"]]
        assert _float(row["Value"]) == figure["value"], row["Key"]
        assert _float(row["Target"]) == figure["target"], row["Key"]
        assert int(row["Tickets"]) == figure["count"], row["Key"]
        missed = row["Against target"]
        assert (None if missed == "" else int(missed)) == figure["missed"], row["Key"]


def test_report_scorecards_are_the_scorecard_command_numbers(run: Run, out: Path) -> None:
    target = out / "q1.csv"
    assert run("report", "--quarter", "2025Q1", "-o", str(target))[0] == 0
    for by, key in (("technician", "technicians"), ("team", "teams")):
        code, printed, _err = run("scorecard", "--json", "--quarter", "2025Q1", "--by", by)
        assert code == 0
        cards = json.loads(printed)["cards"]
        rows = _csv_table(target, f"scorecards.{key}")
        subject = "Technician" if by == "technician" else "Team"
        assert [(int(r["Rank"]), r[subject], float(r["Points"])) for r in rows] == [
            (c["rank"], c["subject"], c["total"]) for c in cards
        ]


def test_every_format_from_the_file_name(run: Run, out: Path) -> None:
    for suffix, magic in (
        ("md", b"# Quarterly service quality audit 2025Q1"),
        ("html", b"<!DOCTYPE html>"),
        ("csv", b"\xef\xbb\xbfQuarterly service quality audit 2025Q1"),
        ("xlsx", b"PK\x03\x04"),
    ):
        code, _printed, err = run("report", "--quarter", "2025Q1", "-o", str(out / f"q1.{suffix}"))
        assert code == 0, err
        assert (out / f"q1.{suffix}").read_bytes().startswith(magic)
    code, _printed, _err = run(
        "report", "--quarter", "2025Q1", "--format", "md", "-o", str(out / "q1.txt")
    )
    assert code == 0 and (out / "q1.txt").read_text("utf-8").startswith("# Quarterly")
    assert sorted(p.name for p in out.iterdir()) == [
        "q1.csv",
        "q1.html",
        "q1.md",
        "q1.txt",
        "q1.xlsx",
    ]


def test_report_in_chinese(run: Run, out: Path) -> None:
    code, printed, _err = run(
        "report", "--quarter", "2025Q1", "-o", str(out / "q1.md"), lang="zh_CN"
    )
    assert code == 0 and "审核报告已写入" in printed
    text = (out / "q1.md").read_text("utf-8")
    assert text.startswith("# 2025Q1 季度服务质量审核") and "## 计分卡" in text


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--quarter", "2026Q5", "-o", "{out}/r.md"], 2, "no such quarter '2026Q5'"),
        (["--from", "2025-03-01", "--to", "2025-02-01", "-o", "{out}/r.md"], 2, "is after --to"),
        (["--quarter", "2025Q1", "--month", "2025-01", "-o", "{out}/r.md"], 2, "give one period"),
        (["--format", "pdf", "-o", "{out}/r.pdf"], 2, "invalid choice: 'pdf'"),
        (["-o", "{out}/r.txt"], 2, "give --format md, html, csv or xlsx"),
        (["--quarter", "2025Q1"], 2, "required: -o/--output"),
        (["-o", "{out}/missing/r.md"], 1, "the folder {out}/missing does not exist"),
        (["--format", "md", "-o", "{out}"], 1, "it is a folder"),
        (["--as", "chenx", "-o", "{out}/r.md"], 4, "Producing the quarterly audit report needs"),
        (["--as", "wangjg", "-o", "{out}/r.md"], 4, "Producing the quarterly audit report needs"),
    ],
)
def test_report_bad_input_is_one_line_and_writes_nothing(
    run: Run, out: Path, args: list[str], code: int, words: str
) -> None:
    got, printed, err = run("report", *(a.format(out=out) for a in args))
    assert got == code and printed == ""
    assert words.format(out=out) in _error(err)
    assert list(out.iterdir()) == []


def test_report_into_a_read_only_folder(run: Run, out: Path) -> None:
    if os.geteuid() != 0:
        out.chmod(0o500)
        try:
            code, _printed, err = run("report", "--quarter", "2025Q1", "-o", str(out / "r.md"))
        finally:
            out.chmod(0o700)
        assert code == 1 and "is not writable" in _error(err) and list(out.iterdir()) == []
    else:  # root writes into read-only folders, but not into /proc
        code, _printed, err = run("report", "--quarter", "2025Q1", "-o", "/proc/r.md")
        assert code == 1 and _error(err).startswith("cannot write /proc/r.md")


# -- scorecards ----------------------------------------------------------------------------------


def test_scorecard_table(run: Run, numbers: dict[str, int]) -> None:
    code, printed, err = run("scorecard", "--quarter", "2025Q1")
    assert code == 0 and err == ""
    lines = printed.splitlines()
    assert lines[0] == (
        "Scorecards 2025Q1: 2025-01-01 … 2025-03-31 (Asia/Shanghai), tickets closed in the period"
    )
    body = [line.split() for line in lines[4:7]]
    assert [(row[0], row[1], row[2]) for row in body] == [
        ("1", "wangjg", "+16"),
        ("2", "zhaom", "0"),
        ("3", "lihua", "0"),
    ]
    assert f"Tickets with no technician (not scored): {numbers['E']}" in printed
    code, printed, _err = run("scorecard", "--quarter", "2025Q1", "--by", "team")
    rows = [line.split()[:3] for line in printed.splitlines()[4:6]]
    assert rows == [["1", "URC", "+16"], ["2", "LGG", "0"]]


def test_scorecard_json_and_drill_down(run: Run, numbers: dict[str, int]) -> None:
    code, printed, _err = run("scorecard", "--json", "--quarter", "2025Q1")
    data = json.loads(printed)
    assert code == 0 and data["period"]["label"] == "2025Q1" and data["by"] == "technician"
    assert [c["subject"] for c in data["cards"]] == EXPECTED_ORDER
    assert {c["subject"]: c["total"] for c in data["cards"]} == EXPECTED_TOTALS
    assert data["points"]["breached_clock"]["onsite"] == -2
    assert data["unattributed_tickets"] == [numbers["E"]]
    lihua = data["cards"][2]
    assert (lihua["penalty"], lihua["bonus"]) == (-6, 6)
    code, printed, _err = run("scorecard", "--json", "--quarter", "2025Q1", "--by", "team")
    assert {c["subject"]: c["total"] for c in json.loads(printed)["cards"]} == EXPECTED_TEAMS
    code, printed, _err = run("scorecard", "--quarter", "2025Q1", "--tickets", "lihua")
    assert code == 0
    assert "lihua Li Hua: 0 points, place 3 of 3" in printed
    assert any(
        line.split()[:2] == ["Report", "returned"] and line.split()[-1] == str(numbers["B"])
        for line in printed.splitlines()
    )
    breached = [line for line in printed.splitlines() if line.startswith("SLA clock breached")]
    assert breached and breached[0].split()[3:] == ["Feedback", "1", "-2", "-2", str(numbers["B"])]


def test_a_technician_sees_their_own_card(run: Run) -> None:
    code, printed, _err = run("--as", "lihua", "scorecard", "--json", "--quarter", "2025Q1")
    data = json.loads(printed)
    assert code == 0 and [c["subject"] for c in data["cards"]] == ["lihua"]
    assert data["own_only"] and data["ranked"] == 3 and data["cards"][0]["rank"] == 3
    code, _printed, err = run("--as", "lihua", "scorecard", "--tickets", "wangjg")
    assert code == 4 and "Reading scorecards needs" in _error(err)
    code, _printed, err = run("--as", "lihua", "scorecard", "--by", "team")
    assert code == 4 and "Reading scorecards needs" in _error(err)


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--quarter", "2025Q9"], 2, "no such quarter '2025Q9'"),
        (["--by", "farm"], 2, "invalid choice: 'farm'"),
        (["--team", "NOWHERE"], 3, "team NOWHERE not found"),
        (["--tickets", "nobody"], 3, "technician nobody has no scorecard"),
        (["--as", "chenx"], 4, "Reading scorecards needs"),
    ],
)
def test_scorecard_bad_input_is_one_line(run: Run, args: list[str], code: int, words: str) -> None:
    got, printed, err = run("scorecard", *args)
    assert got == code and printed == "" and words in _error(err)


def test_scorecard_in_chinese(run: Run) -> None:
    code, printed, _err = run("scorecard", "--quarter", "2025Q1", lang="zh_CN")
    assert code == 0 and printed.startswith("计分卡 2025Q1") and "王建国" in printed
