"""Scorecards and the quarterly audit report on the hand-computed quarter of
``tests/audit_history.py``: exact points and ranking on both backends, reconciliation with the
KPIs, the breaches with their causes and holds, survey, suggestion and improvement sections,
roles, and the files: HTML escaping, CSV/XLSX formula neutralisation, atomic writes."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.etree import ElementTree

import pytest
from audit_history import (
    EXPECTED_ORDER,
    EXPECTED_TEAMS,
    EXPECTED_TOTALS,
    HOSTILE_COMMENT,
    HOSTILE_EVIDENCE,
    HOSTILE_IMPROVEMENT,
    HOSTILE_SUGGESTION,
    HOSTILE_TITLE,
    Q1,
    bj,
    history,
)

from windtui.domain import kpi as rules
from windtui.domain import scorecard as sc
from windtui.domain.model import HoldReason, Target
from windtui.errors import Forbidden, NotFound, Refused
from windtui.i18n import set_language
from windtui.paths import default_policy_path
from windtui.services import audit_report, kpi, scorecard
from windtui.services import report_formats as formats
from windtui.services.desk import Desk
from windtui.store.models import Refusal

SHEET_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@pytest.fixture
def quarter(desk: Desk) -> dict[str, int]:
    return history(desk)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder for report files (the database lives beside it)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@contextmanager
def _as(desk: Desk, login: str) -> Iterator[None]:
    actor = desk.actor
    desk.actor = login
    try:
        yield
    finally:
        desk.actor = actor


# -- scorecards ----------------------------------------------------------------------------------


def test_scorecards_by_hand_on_both_backends(any_desk: Desk) -> None:
    n = history(any_desk)
    found = scorecard.scorecards(any_desk, Q1)
    assert [c.subject for c in found.cards] == EXPECTED_ORDER
    assert {c.subject: c.total for c in found.cards} == EXPECTED_TOTALS
    assert [c.rank for c in found.cards] == [1, 2, 3]
    assert found.unattributed == (n["E"],)  # consulting without a technician
    wangjg, zhaom, lihua = found.cards
    assert wangjg.tickets == (n["A"], n["C"])  # F closed in 2024Q4: not in the period
    assert wangjg.kind_count(sc.MET_CLOCK) == 14 and wangjg.kind_points(sc.MET_CLOCK) == 14
    assert wangjg.kind_tickets(sc.FIRST_TIME_FIX) == (n["A"],)
    assert wangjg.kind_tickets(sc.REOPENED) == (n["C"],)
    assert wangjg.kind_tickets(sc.HIGH_SURVEY) == (n["A"],)  # C's 3 is neutral
    assert wangjg.kind_tickets(sc.ADOPTED_SUGGESTION) == (n["C"],)  # S1; S3 had no ticket
    assert zhaom.penalty == -2 and lihua.penalty == -6  # 0 points each: zhaom first
    breached = [c for c in zhaom.components if c.kind == sc.BREACHED_CLOCK]
    assert [(c.clock, c.tickets) for c in breached] == [(Target.ONSITE, (n["D"],))]
    assert {c.kind: c.points for c in lihua.components if c.clock is None} == {
        sc.LOW_SURVEY: -3,
        sc.RETURNED_REPORT: -1,
    }
    assert [(c.clock, c.points) for c in lihua.components if c.kind == sc.BREACHED_CLOCK] == [
        (Target.FEEDBACK, -2)
    ]
    teams = scorecard.scorecards(any_desk, Q1, by="team")
    assert {c.subject: c.total for c in teams.cards} == EXPECTED_TEAMS
    assert [c.subject for c in teams.cards] == ["URC", "LGG"]
    assert teams.members == {"LGG": ("zhaom",), "URC": ("lihua", "wangjg")}


def test_scorecards_reconcile_with_the_kpis(desk: Desk, quarter: dict[str, int]) -> None:
    """Per technician: clocks met/breached are the compliance figures' counted/missed, reopens
    and dissatisfied surveys their drill-downs."""
    found = scorecard.scorecards(desk, Q1)
    for card in found.cards:
        report = kpi.kpis(desk, Q1, kpi.Filters(technician=card.subject))
        for target in Target:
            figure = report.figure(f"{target.value}_compliance")
            met = sum(
                c.count for c in card.components if (c.kind, c.clock) == (sc.MET_CLOCK, target)
            )
            late = sum(
                c.count for c in card.components if (c.kind, c.clock) == (sc.BREACHED_CLOCK, target)
            )
            assert (met + late, late) == (figure.count, figure.missed), (card.subject, target)
        assert card.kind_count(sc.REOPENED) == report.figure("reopen_rate").missed
        assert card.kind_tickets(sc.REOPENED) == tuple(
            kpi.kpi_tickets(desk, "reopen_rate:missed", kpi.Filters(technician=card.subject), Q1)
        )
        assert card.kind_count(sc.ADOPTED_SUGGESTION) == report.suggestions.adopted
        satisfied = sum(n for s, n in report.scores.items() if s >= 4)
        assert card.kind_count(sc.HIGH_SURVEY) == satisfied
        assert card.kind_count(sc.LOW_SURVEY) == sum(n for s, n in report.scores.items() if s <= 2)
    team = scorecard.scorecards(desk, Q1, by="team", team="URC")
    assert [c.subject for c in team.cards] == ["URC"]
    urc = kpi.kpis(desk, Q1, kpi.Filters(team="URC"))
    assert team.cards[0].kind_count(sc.BREACHED_CLOCK) == sum(
        urc.figure(f"{t.value}_compliance").missed or 0 for t in Target
    )


def test_points_come_from_the_policy_in_force(
    desk: Desk, quarter: dict[str, int], tmp_path: Path
) -> None:
    text = default_policy_path().read_text("utf-8")
    changed = text.replace("reopened = -3 ", "reopened = -10").replace(
        "met_clock = 1 ", "met_clock = { default = 1, onsite = 5 }"
    )
    assert changed != text
    path = tmp_path / "policy.toml"
    path.write_text(changed, "utf-8")
    desk.load_policy_file(path)
    found = scorecard.scorecards(desk, Q1)
    # wangjg: 16 - 7 (reopen -10 instead of -3) + 2 × 4 (on site met on A and C: 5 instead of 1)
    assert found.card("wangjg").total == 17
    assert found.points.reopened == -10


def test_team_filter_and_one_card(desk: Desk, quarter: dict[str, int]) -> None:
    urc = scorecard.scorecards(desk, Q1, team="URC")
    assert [c.subject for c in urc.cards] == ["wangjg", "lihua"]
    one = scorecard.scorecards(desk, Q1, subject="lihua")
    assert [(c.subject, c.rank) for c in one.cards] == [("lihua", 3)] and one.ranked == 3
    with pytest.raises(NotFound, match="technician nobody has no scorecard for 2025Q1"):
        scorecard.scorecards(desk, Q1, subject="nobody")
    with pytest.raises(NotFound, match="team NOWHERE not found"):
        scorecard.scorecards(desk, Q1, team="NOWHERE")
    with pytest.raises(Refused, match="unknown scorecard 'farm'"):
        scorecard.scorecards(desk, Q1, by="farm")


def test_scorecard_roles(desk: Desk, quarter: dict[str, int]) -> None:
    with _as(desk, "wangjg"):  # a technician: their own card, their place
        own = scorecard.scorecards(desk, Q1)
        assert [(c.subject, c.rank) for c in own.cards] == [("wangjg", 1)] and own.own_only
        assert own.unattributed == ()
        with pytest.raises(Forbidden, match="Reading scorecards needs"):
            scorecard.scorecards(desk, Q1, subject="lihua")
        with pytest.raises(Forbidden):
            scorecard.scorecards(desk, Q1, by="team")
    with _as(desk, "chenx"):  # a dispatcher: refused
        with pytest.raises(Forbidden, match="Reading scorecards needs the"):
            scorecard.scorecards(desk, Q1)
        with pytest.raises(Forbidden, match="Producing the quarterly audit report needs"):
            audit_report.build_audit_report(desk, Q1)
    refused = list(Refusal.select().order_by(Refusal.id))
    assert [r.operation for r in refused] == ["scorecard"] * 3 + ["audit_report"]
    assert refused[0].actor == "wangjg" and refused[-1].actor == "chenx"


# -- the report ----------------------------------------------------------------------------------


def test_report_data(desk: Desk, quarter: dict[str, int]) -> None:
    n = quarter
    report = audit_report.build_audit_report(desk, Q1)
    # KPIs: the very numbers of the KPI service
    assert kpi.report_dict(report.kpis) == kpi.report_dict(kpi.kpis(desk, Q1, kpi.Filters()))
    # every breach of the period, matching the compliance drill-downs
    assert [(b.number, b.target) for b in report.breaches] == [
        (n["B"], Target.FEEDBACK),
        (n["D"], Target.ONSITE),
    ]
    missed = set()
    for target in Target:
        missed |= {
            (t, target)
            for t in kpi.kpi_tickets(desk, f"{target.value}_compliance:missed", None, Q1)
        }
    assert {(b.number, b.target) for b in report.breaches} == missed
    fb, onsite = report.breaches
    assert (fb.technician, fb.team, fb.title) == ("lihua", "URC", HOSTILE_TITLE)
    assert fb.start == bj("2025-02-10", "08:00") and fb.due == bj("2025-02-11", "08:00")
    assert fb.met_at == bj("2025-02-11", "10:00") and fb.overdue_seconds == 7200
    assert fb.causes == ("Weather hold of 3h00m did not pause this clock",)
    [hold] = fb.holds
    assert (hold.reason, hold.evidence, hold.paused, hold.during) == (
        HoldReason.WEATHER,
        HOSTILE_EVIDENCE,
        False,
        True,
    )
    assert (hold.start, hold.end, hold.actor) == (
        bj("2025-02-10", "09:00"),
        bj("2025-02-10", "12:00"),
        "tester",
    )
    assert onsite.cancelled and onsite.met_at is None and onsite.technician == "zhaom"
    assert onsite.due == bj("2025-02-21", "08:00") and onsite.overdue_seconds == 6 * 3600
    assert onsite.causes == (
        "cancelled while the clock was overdue",
        "longest step: preparing to leave, 1d05h (wall clock)",
    )
    # surveys below satisfied: the satisfaction drill-down, with comments and the analysis item
    assert [(s.number, s.score) for s in report.low_surveys] == [(n["B"], 2), (n["C"], 3)]
    assert [s.number for s in report.low_surveys] == kpi.kpi_tickets(
        desk, "satisfaction_rate:missed", None, Q1
    )
    low = report.low_surveys[0]
    assert low.comments == HOSTILE_COMMENT and low.technician == "lihua"
    assert low.analysis is not None and report.low_surveys[1].analysis is None
    # suggestions received in the period; improvements with the overdue one marked
    assert {s.id for s in report.suggestions} == {n["S1"], n["S2"], n["S3"]}
    assert rules.rate(2, 3) == report.kpis.figure("suggestion_adoption").value
    overdue = [i for i in report.improvements if i.overdue]
    assert [(i.id, i.title) for i in overdue] == [(n["I1"], HOSTILE_IMPROVEMENT)]
    assert low.analysis in {i.id for i in report.improvements}
    assert [c.subject for c in report.technicians.cards] == EXPECTED_ORDER
    assert [c.subject for c in report.teams.cards] == ["URC", "LGG"]
    assert report.author == desk.actor


def test_improvements_of_other_periods_are_left_out(desk: Desk, quarter: dict[str, int]) -> None:
    q4 = rules.parse_quarter("2024Q4")
    report = audit_report.build_audit_report(desk, q4)
    # only items still open that were opened before the end of 2024Q4 would show: none
    assert report.improvements == ()
    assert report.breaches == () and report.kpis.figure("closed_tickets").value == 1
    # F: seven clocks met, fixed first time, survey 5
    assert [c.total for c in report.technicians.cards if c.subject == "wangjg"] == [10]


def test_every_section_in_every_format(desk: Desk, quarter: dict[str, int], out: Path) -> None:
    for fmt in formats.FORMATS:
        path = audit_report.write_audit_report(desk, Q1, fmt, out / f"q1.{fmt}")
        assert path == out / f"q1.{fmt}" and path.stat().st_mode & 0o777 == 0o600
    md = (out / "q1.md").read_text("utf-8")
    for title in (
        "## KPIs",
        "## Breaches",
        "## Customer satisfaction",
        "## Suggestions",
        "## Improvement actions",
        "## Scorecards",
    ):
        assert title in md
    assert f"| {quarter['B']} | DBC |" in md and "Weather hold of 3h00m did not pause" in md
    assert "| 1 | wangjg | Wang Jianguo | +16 |" in md
    assert sorted(p.name for p in out.iterdir()) == [f"q1.{f}" for f in sorted(formats.FORMATS)]


def test_html_escapes_every_user_text(desk: Desk, quarter: dict[str, int], out: Path) -> None:
    page = audit_report.write_audit_report(desk, Q1, "html", out / "q1.html").read_text("utf-8")
    # the only tags are the report's own
    tags = set(re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", page))
    assert tags <= {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "section",
        "table", "thead", "tbody", "tr", "th", "td", "br",
    }  # fmt: skip
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert (
        "=HYPERLINK(&quot;http://evil.example&quot;,&quot;click&quot;) &lt;b&gt;slow&lt;/b&gt;"
        in page
    )
    assert "Content-Security-Policy\" content=\"default-src 'none';" in page


def test_markdown_keeps_user_text_inert(desk: Desk, quarter: dict[str, int]) -> None:
    md = formats.render_md(audit_report.audit_document(audit_report.build_audit_report(desk, Q1)))
    assert "<script>" not in md and "<img" not in md and "<b>" not in md
    assert "&lt;script&gt;alert('x')&lt;/script&gt; converter =cmd\\|' /C calc'!A0" in md
    assert "\\[link\\](javascript:alert(1)) \\| pipe" in md  # no link, no extra column
    assert formats.md_text("a\x1b[31mred\nnext") == "a␛\\[31mred<br>next"


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text("utf-8-sig"), newline="")))


def test_csv_neutralises_formulas(desk: Desk, quarter: dict[str, int], out: Path) -> None:
    path = audit_report.write_audit_report(desk, Q1, "csv", out / "q1.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel needs the BOM for UTF-8
    cells = [cell for row in _csv_rows(path) for cell in row]
    for hostile in (HOSTILE_COMMENT, HOSTILE_IMPROVEMENT, HOSTILE_SUGGESTION):
        assert "'" + hostile in cells and hostile not in cells
    assert HOSTILE_TITLE in cells  # begins with "<": harmless, kept as typed
    assert all(not c.startswith(formats.FORMULA_STARTS) or _number(c) for c in cells)
    # numbers stay numbers (points, seconds), negative ones too
    assert "-2" in cells and "7200" in cells


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _xlsx(path: Path) -> tuple[list[str], dict[str, list[tuple[str, str, str | None, str]]]]:
    """Sheet names and, per sheet, its cells as (ref, type, formula, value)."""
    with zipfile.ZipFile(path) as book:
        strings = [
            "".join(t.text or "" for t in si.iter(f"{{{SHEET_NS['m']}}}t"))
            for si in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).findall(
                "m:si", SHEET_NS
            )
        ]
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
        names = [s.get("name", "") for s in workbook.iter(f"{{{SHEET_NS['m']}}}sheet")]
        sheets = {}
        for i, name in enumerate(names, start=1):
            root = ElementTree.fromstring(book.read(f"xl/worksheets/sheet{i}.xml"))
            cells = []
            for c in root.iter(f"{{{SHEET_NS['m']}}}c"):
                formula = c.find("m:f", SHEET_NS)
                value = c.find("m:v", SHEET_NS)
                kind = c.get("t", "n")
                text = value.text if value is not None else ""
                if kind == "s":
                    text = strings[int(text or 0)]
                cells.append(
                    (
                        c.get("r", ""),
                        kind,
                        formula.text if formula is not None else None,
                        text or "",
                    )
                )
            sheets[name] = cells
    return names, sheets


def test_xlsx_one_sheet_per_section_nothing_runs(
    desk: Desk, quarter: dict[str, int], out: Path
) -> None:
    path = audit_report.write_audit_report(desk, Q1, "xlsx", out / "q1.xlsx")
    names, sheets = _xlsx(path)
    assert names == [
        "Summary",
        "KPIs",
        "Breaches",
        "Customer satisfaction",
        "Suggestions",
        "Improvement actions",
        "Scorecards",
    ]
    every = [cell for cells in sheets.values() for cell in cells]
    assert all(formula is None for _ref, _t, formula, _v in every)  # not one formula
    texts = [v for _ref, kind, _f, v in every if kind == "s"]
    for hostile in (HOSTILE_COMMENT, HOSTILE_IMPROVEMENT, HOSTILE_SUGGESTION):
        assert "'" + hostile in texts and hostile not in texts
    assert not any(t.startswith(formats.FORMULA_STARTS) for t in texts)
    numbers = [v for _ref, kind, _f, v in sheets["Scorecards"] if kind == "n" and v]
    assert "16" in numbers and "-2" in numbers  # points are numbers


def test_neutralise() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1"):
        assert formats.neutralise(text) == "'" + text
    for text in ("1-1", "a=b", "", "'=1", "<b>"):
        assert formats.neutralise(text) == text


# -- bad input -----------------------------------------------------------------------------------


def test_unwritable_targets_are_one_line(desk: Desk, quarter: dict[str, int], out: Path) -> None:
    with pytest.raises(
        formats.ReportWriteError, match=r"cannot write .*: the folder .* does not exist"
    ):
        audit_report.write_audit_report(desk, Q1, "md", out / "missing" / "q1.md")
    with pytest.raises(formats.ReportWriteError, match="it is a folder"):
        audit_report.write_audit_report(desk, Q1, "md", out)
    with pytest.raises(formats.ReportWriteError, match="unknown report format 'pdf'"):
        audit_report.write_audit_report(desk, Q1, "pdf", out / "q1.pdf")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_a_failed_write_leaves_nothing(
    desk: Desk, quarter: dict[str, int], out: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    target = out / f"q1.{fmt}"
    target.write_text("the previous report", "utf-8")
    original = formats._WRITERS[fmt]

    def broken(doc: formats.Document, path: Path) -> None:
        original(doc, path)  # the whole file is written, then the disk "fills up"
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(formats._WRITERS, fmt, broken)
    with pytest.raises(formats.ReportWriteError, match="No space left on device"):
        audit_report.write_audit_report(desk, Q1, fmt, target)
    assert [p.name for p in out.iterdir()] == [target.name]
    assert target.read_text("utf-8") == "the previous report"  # untouched


def test_chinese_report(desk: Desk, quarter: dict[str, int]) -> None:
    set_language("zh_CN")
    try:
        md = formats.render_md(
            audit_report.audit_document(audit_report.build_audit_report(desk, Q1))
        )
    finally:
        set_language("en")
    assert "季度服务质量审核" in md and "## 计分卡" in md and "王建国" in md
