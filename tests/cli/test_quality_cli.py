"""The quality commands (issue 7): ``ticket report``, ``ticket survey``, ``improvement`` and
``suggestion``, and the quality records in ``ticket show``. Bad input is one line with its exit
code (2 usage, 3 not found, 4 refused) and writes nothing."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from windtui import cli
from windtui.i18n import set_language

NOW = "2026-03-10T14:00:00+08:00"
Run = Callable[..., tuple[int, str, str]]
#: Demo tickets at NOW: resolved (owner), reviewed (owner).
RESOLVED, RESOLVED_OWNER, OTHER_TECH = 1027, "liuy", "linxd"
REVIEWED = 1048
QA = "zhengk"

REPORT_TOML = """\
diagnosis = \"\"\"B09 safety chain tripped after an over-speed;
the rotor speed sensor reads 4 % high.\"\"\"
work_done = "Replaced the speed sensor, re-calibrated, ran up to rated speed twice."
root_cause = "Sensor drift (the sensor is past its 5-year life)"
fault_code_confirmed = "EN-SC-OS"
fixed = true
first_time_fix = true
attachments = ["photos/B09-sensor.jpg", "scada/B09-2026-03-10.csv"]

[[parts]]
part_number = "EN-SPD-SNS-02"
description = "Rotor speed sensor"
quantity = 1

[[hours]]
staff = "liuy"
hours = 4.5
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("quality") / "template.db"
    assert cli.main(["--db", f"sqlite:///{path}", "--now", NOW, "init", "--demo"]) == 0
    set_language("en")
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "desk.db"
    shutil.copy(template, path)
    return path


@pytest.fixture
def run(db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.delenv("WINDTUI_ACTOR", raising=False)
    monkeypatch.setenv("WINDTUI_SYSTEM_CONFIG", str(db.parent / "no-system-config.toml"))

    def call(*args: str, stdin: str | None = None, lang: str = "en") -> tuple[int, str, str]:
        capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            code = cli.main(["--db", f"sqlite:///{db}", "--now", NOW, "--lang", lang, *args])
        finally:
            set_language("en")
        out, err = capsys.readouterr()
        return code, out, err

    return call


@pytest.fixture
def rows(db: Path) -> Callable[[], tuple[int, ...]]:
    """Row counts of everything the quality commands write (refusals are logged apart)."""
    tables = (
        "event",
        "repair_report",
        "report_part",
        "report_hours",
        "review",
        "survey",
        "improvement",
        "suggestion",
    )

    def count() -> tuple[int, ...]:
        with sqlite3.connect(db) as con:
            return tuple(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables)

    return count


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("windtui: error: "), err
    return err.removeprefix("windtui: error: ").strip()


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return str(path)


def test_report_from_toml_then_submit_review_survey_and_show(
    run: Run, tmp_path: Path, rows: Callable[[], tuple[int, ...]]
) -> None:
    report = _write(tmp_path, "report.toml", REPORT_TOML)
    code, out, err = run(
        "--as", RESOLVED_OWNER, "ticket", "report", str(RESOLVED), "--file", report
    )
    assert code == 0, err
    assert out.splitlines() == [
        f"ticket {RESOLVED}: repair report saved",
        f"complete: submit it with `windtui ticket act {RESOLVED} submit`",
    ]
    assert run("--as", RESOLVED_OWNER, "ticket", "act", str(RESOLVED), "submit")[0] == 0
    code, _out, err = run("--as", QA, "ticket", "act", str(RESOLVED), "return")
    assert code == 4 and "needs a reason: what must be fixed" in _one_line(err)
    assert run("--as", QA, "ticket", "act", str(RESOLVED), "approve")[0] == 0
    code, out, err = run("ticket", "survey", str(RESOLVED), "--score", "5", "--comments", "Quick")
    assert code == 0, err
    assert out.startswith(f"ticket {RESOLVED}: satisfaction 5/5 recorded (phone, ")
    code, out, _err = run("ticket", "show", str(RESOLVED), "--json")
    data = json.loads(out)
    assert data["report"]["revision"] == 1 and data["report"]["missing"] == []
    assert data["report"]["parts"] == [
        {"part_number": "EN-SPD-SNS-02", "description": "Rotor speed sensor", "quantity": 1.0}
    ]
    assert data["report"]["hours"][0]["staff"] == "liuy"
    assert data["report"]["submitted_at"].endswith("+08:00")
    assert [(r["outcome"], r["reviewer"]) for r in data["reviews"]] == [("approved", QA)]
    assert (data["survey"]["score"], data["survey"]["comments"]) == (5, "Quick")
    code, out, _err = run("ticket", "show", str(RESOLVED))
    assert "Repair report" in out and "revision 1, submitted" in out
    assert "Rotor speed sensor × 1" in out and "Li" in out
    assert "Satisfaction  5/5 · phone" in out
    assert "Report written" in out and "Survey recorded" in out


def test_report_as_json_from_stdin_and_json_output(run: Run) -> None:
    payload = json.dumps(
        {
            "diagnosis": "Speed sensor drift",
            "work_done": "Replaced the sensor",
            "fixed": True,
            "first_time_fix": False,
        }
    )
    code, out, err = run(
        "ticket", "report", str(RESOLVED), "--json-input", "-", "--json", stdin=payload
    )
    assert code == 0, err
    data = json.loads(out)
    assert (data["ticket"], data["revision"], data["first_time_fix"]) == (RESOLVED, 0, False)
    assert data["missing"] == ["root_cause", "hours"]
    code, out, _err = run("ticket", "report", str(RESOLVED), "--json-input", "-", stdin=payload)
    assert code == 0 and "still missing before it can be submitted: root cause, work hours" in out
    code, _out, err = run("ticket", "act", str(RESOLVED), "submit")
    assert code == 4
    assert _one_line(err) == (
        f"ticket {RESOLVED}'s repair report lacks root cause, work hours: complete it before"
        " submitting"
    )


BAD_FILES = [
    (
        "r.toml",
        'diagnosis = "x"\n[[parts]]\npart_number = "P"\nquantity = 0\n',
        4,
        "parts[1].quantity must be more than 0",
    ),
    ("r.toml", 'diagnoss = "x"\n', 4, "r.toml: unknown key 'diagnoss' (known: diagnosis,"),
    ("r.toml", "fixed = \n", 4, "r.toml is not valid TOML"),
    ("r.json", '{"hours": [{"staff": "ghost", "hours": 2}]}', 3, "hours[1].staff: ghost is not on"),
    ("r.json", '{"fixed": false, "first_time_fix": true}', 4, "first_time_fix = true needs fixed"),
    ("r.json", '{"hours": [{"staff": "liuy", "hours": 30}]}', 4, "30 h for liuy is more than 24 h"),
    ("r.json", "[1, 2", 4, "r.json is not valid JSON"),
    ("r.yaml", "diagnosis: x", 2, "--file must end in .toml or .json"),
]


@pytest.mark.parametrize(("name", "text", "exit_code", "message"), BAD_FILES)
def test_bad_report_files_are_one_line_and_write_nothing(
    run: Run,
    tmp_path: Path,
    rows: Callable[[], tuple[int, ...]],
    name: str,
    text: str,
    exit_code: int,
    message: str,
) -> None:
    before = rows()
    code, out, err = run("ticket", "report", str(RESOLVED), "--file", _write(tmp_path, name, text))
    assert (code, out) == (exit_code, "")
    assert message in _one_line(err)
    assert rows() == before


def test_report_needs_a_source_a_file_and_the_crew(
    run: Run, tmp_path: Path, rows: Callable[[], tuple[int, ...]]
) -> None:
    before = rows()
    code, _out, err = run("ticket", "report", str(RESOLVED))
    assert code == 2 and "one of the arguments --file --json-input is required" in _one_line(err)
    code, _out, err = run("ticket", "report", str(RESOLVED), "--file", str(tmp_path / "no.toml"))
    assert code == 3 and _one_line(err).endswith("no.toml not found")
    report = _write(tmp_path, "report.toml", REPORT_TOML)
    code, _out, err = run("--as", OTHER_TECH, "ticket", "report", str(RESOLVED), "--file", report)
    assert code == 4 and _one_line(err) == f"ticket {RESOLVED} is not one of your jobs"
    code, _out, err = run("--as", QA, "ticket", "report", str(RESOLVED), "--file", report)
    assert code == 4 and "Writing the repair report needs the Dispatcher or Technician" in err
    code, _out, err = run("ticket", "report", "9999", "--file", report)
    assert code == 3 and _one_line(err) == "ticket 9999 not found"
    assert rows() == before


def test_a_review_of_a_ticket_without_a_report_is_refused(
    run: Run, db: Path, rows: Callable[[], tuple[int, ...]]
) -> None:
    code, out, _err = run("tickets", "--state", "report_submitted", "--json")
    number = json.loads(out)[0]["number"]
    with sqlite3.connect(db) as con:  # as a ticket submitted before reports existed
        con.execute(
            "DELETE FROM repair_report WHERE ticket_id = (SELECT id FROM ticket WHERE number = ?)",
            (number,),
        )
    before = rows()
    code, _out, err = run("--as", QA, "ticket", "act", str(number), "approve")
    assert code == 4
    assert _one_line(err) == f"ticket {number} has no submitted repair report to review"
    assert rows() == before


def test_survey_bad_input_and_the_follow_up_gate(
    run: Run, rows: Callable[[], tuple[int, ...]]
) -> None:
    before = rows()
    code, _out, err = run("ticket", "act", str(REVIEWED), "followup")
    assert code == 4 and f"`windtui ticket survey {REVIEWED} --score 1-5`" in _one_line(err)
    for args, exit_code, message in (
        (["--score", "9"], 4, "a satisfaction score is a whole number from 1 to 5: 9 is not"),
        (["--score", "0"], 4, "from 1 to 5: 0 is not"),
        (["--score", "five"], 2, "argument --score: invalid int value: 'five'"),
        (["--score", "4", "--channel", "fax"], 4, "unknown survey channel 'fax': choose one of"),
        (["--score", "4", "--caller", "ghost"], 3, "caller: ghost is not on the staff list"),
        (["--score", "4", "--at", "2026-03-11T09:00"], 4, "is in the future"),
        (["--score", "4", "--at", "soon"], 1, "cannot read the time 'soon' for --at"),
    ):
        code, out, err = run("ticket", "survey", str(REVIEWED), *args)
        assert (code, out) == (exit_code, ""), (args, err)
        assert message in _one_line(err)
    code, _out, err = run("--as", RESOLVED_OWNER, "ticket", "survey", str(REVIEWED), "--score", "4")
    assert code == 4 and _one_line(err) == f"ticket {REVIEWED} is not one of your jobs"
    assert rows() == before


def test_a_low_score_opens_an_analysis_item(run: Run) -> None:
    code, out, err = run(
        "--as", QA, "ticket", "survey", str(REVIEWED), "--score", "2", "--channel", "site_visit",
        "--comments", "Nobody called back", "--at", "2026-03-10T11:30",
    )  # fmt: skip
    assert code == 0, err
    assert out.splitlines() == [
        f"ticket {REVIEWED}: satisfaction 2/5 recorded (site visit, {QA})",
        f"low score: analysis item 1 opened for {QA}, due 2026-03-24",
    ]
    code, out, _err = run("improvement", "list", "--json")
    items = json.loads(out)
    assert [(i["kind"], i["ticket"], i["survey_score"], i["owner"]) for i in items] == [
        ("analysis", REVIEWED, 2, QA)
    ]
    assert run("ticket", "act", str(REVIEWED), "followup")[0] == 0


def test_improvement_add_set_list(run: Run, rows: Callable[[], tuple[int, ...]]) -> None:
    base = ["--as", QA, "improvement"]
    code, out, err = run(
        *base, "add", "--kind", "analysis", "--title", "Why do crews reach Dabancheng late?",
        "--owner", QA, "--due", "2026-03-31", "--ticket", str(REVIEWED), "--json",
    )  # fmt: skip
    assert code == 0, err
    analysis = json.loads(out)
    assert (analysis["kind"], analysis["status"], analysis["due"]) == (
        "analysis",
        "open",
        "2026-03-31",
    )
    code, out, err = run(
        *base, "add", "--title", "Second crew at URC depot on weekends", "--owner", "luog",
        "--due", "2026-04-30", "--category", "response", "--parent", str(analysis["id"]),
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == (
        "improvement 2 opened: Second crew at URC depot on weekends (owner luog, due 2026-04-30)"
    )
    code, out, _err = run(*base, "set", "2", "--status", "in_progress", "--note", "rota drafted")
    assert out.strip() == "improvement 2: in progress, owner luog, due 2026-04-30"
    code, out, _err = run(*base, "set", "2", "--status", "done", "--json")
    assert json.loads(out)["closed_at"].startswith("2026-03-10T14:00:00")
    code, out, _err = run(*base, "list", "--status", "done", "--json")
    assert [i["id"] for i in json.loads(out)] == [2]
    code, out, _err = run(*base, "list")
    assert "analysis item" in out and "Why do crews reach Dabancheng late?" in out
    code, out, _err = run(*base, "list", "--overdue", "--json")
    assert json.loads(out) == []
    before = rows()
    for args, exit_code, message in (
        (["add", "--title", "x", "--owner", QA, "--due", "2026-03-01"], 4, "is in the past"),
        (["add", "--title", "x", "--owner", QA, "--due", "31/03"], 2, "cannot read the date"),
        (["add", "--title", "x", "--owner", "ghost", "--due", "2026-04-01"], 3, "owner: ghost"),
        (["add", "--title", "x", "--owner", QA, "--due", "2026-04-01", "--parent", "2"], 4,
         "improvement 2 is an action, not an analysis"),
        (["set", "2", "--status", "open"], 4, "improvement 2 is done: it only takes notes"),
        (["set", "99", "--status", "done"], 3, "improvement 99 not found"),
        (["set", "1"], 4, "give a new status, owner, due date or note"),
        (["list", "--status", "later"], 4, "unknown status 'later'"),
        (["frobnicate"], 2, "invalid choice"),
    ):  # fmt: skip
        code, out, err = run(*base, *args)
        assert (code, out) == (exit_code, ""), (args, err)
        assert message in _one_line(err)
    code, _out, err = run(
        "improvement", "add", "--title", "x", "--owner", QA, "--due", "2026-04-01"
    )
    assert code == 4 and "Managing improvement actions needs the QA or Supervisor role" in err
    assert rows() == before


def test_suggestion_add_set_list_rate(run: Run, rows: Callable[[], tuple[int, ...]]) -> None:
    code, out, err = run(
        "suggestion", "add", "--source", "survey", "--text", "SMS the crew's ETA",
        "--ticket", str(REVIEWED), "--received", "2026-03-09", "--json",
    )  # fmt: skip
    assert code == 0, err
    first = json.loads(out)
    assert (first["status"], first["ticket"], first["received_on"]) == (
        "new",
        REVIEWED,
        "2026-03-09",
    )
    assert first["farm"] is not None and first["customer"] is not None
    assert run("suggestion", "add", "--source", "meeting", "--text", "Spare blade stock")[0] == 0
    assert run("suggestion", "add", "--source", "email", "--text", "Monthly report")[0] == 0
    assert run("suggestion", "set", "1", "--status", "adopted", "--on", "2026-03-10")[0] == 0
    code, out, _err = run("suggestion", "set", "2", "--status", "rejected", "--json")
    assert (json.loads(out)["decided_by"], json.loads(out)["decided_on"]) == ("xien", "2026-03-10")
    code, out, _err = run("suggestion", "rate")
    assert out.strip() == (
        "adoption rate 50.0 %: 1 adopted of 2 decided (1 rejected; 1 pending; 3 received)"
    )
    code, out, _err = run(
        "suggestion", "rate", "--from", "2026-03-10", "--to", "2026-03-10", "--json"
    )
    assert json.loads(out) == {
        "start": "2026-03-10", "end": "2026-03-10", "received": 2, "adopted": 0,
        "rejected": 1, "pending": 1, "rate": 0.0,
    }  # fmt: skip
    code, out, _err = run("suggestion", "list", "--status", "adopted", "--json")
    assert [s["id"] for s in json.loads(out)] == [1]
    code, out, _err = run("suggestion", "list")
    assert "SMS the crew's ETA" in out and "survey" in out
    before = rows()
    for args, exit_code, message in (
        (["add", "--source", "rumour", "--text", "x"], 4, "unknown suggestion source 'rumour'"),
        (["add", "--source", "phone", "--text", "x", "--farm", "NOPE"], 3, "farm NOPE not found"),
        (["set", "2", "--status", "adopted"], 4, "suggestion 2 is rejected: a decision is final"),
        (["set", "3", "--status", "maybe"], 4, "unknown suggestion status 'maybe'"),
        (["rate", "--from", "2026-04-01", "--to", "2026-03-31"], 4, "after its end 2026-03-31"),
        (["list", "--from", "2026-02-30"], 2, "cannot read the date '2026-02-30' for --from"),
    ):
        code, out, err = run("suggestion", *args)
        assert (code, out) == (exit_code, ""), (args, err)
        assert message in _one_line(err)
    code, _out, err = run("--as", RESOLVED_OWNER, "suggestion", "list")
    assert code == 4
    assert rows() == before


def test_quality_commands_in_chinese(run: Run, tmp_path: Path) -> None:
    report = _write(tmp_path, "report.toml", REPORT_TOML)
    code, out, _err = run("ticket", "report", str(RESOLVED), "--file", report, lang="zh_CN")
    assert code == 0 and out.startswith(f"工单 {RESOLVED}：维修报告已保存")
    code, _out, err = run("ticket", "survey", str(REVIEWED), "--score", "7", lang="zh_CN")
    assert code == 4 and "满意度评分是 1 到 5 的整数" in err
    code, out, _err = run("ticket", "show", str(RESOLVED), lang="zh_CN")
    assert "维修报告" in out and "诊断" in out
