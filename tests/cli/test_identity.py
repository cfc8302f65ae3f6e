"""Identity at the command line: whoami, --as, role refusals as one line (exit 4), staff
management, the audit commands."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo, loaded by this OS login: the loader's login maps to the demo administrator."""
    path = tmp_path_factory.mktemp("identity") / "template.db"
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

    def call(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = cli.main(["--db", f"sqlite:///{db}", "--now", NOW, "--lang", "en", *args])
        finally:
            set_language("en")
        out, err = capsys.readouterr()
        return code, out, err

    return call


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("windtui: error: "), err
    return err.removeprefix("windtui: error: ").strip()


def test_whoami_names_the_person_roles_and_how(run: Run) -> None:
    code, out, _err = run("whoami")
    assert code == 0 and out.startswith("xien (Xie Ning) — roles: Dispatcher, Administrator")
    code, out, _err = run("whoami", "--json")
    data = json.loads(out)
    assert (data["login"], data["roles"], data["via"]) == ("xien", ["dispatcher", "admin"], "login")
    code, out, _err = run("--as", "lizq", "whoami", "--json")
    data = json.loads(out)
    assert (data["login"], data["roles"], data["via"], data["crew_only"]) == (
        "lizq",
        ["technician"],
        "as",
        True,
    )


def test_a_technician_lists_and_reads_only_their_jobs(run: Run) -> None:
    code, out, _err = run("tickets", "--json")
    everyone = json.loads(out)
    mine = [t["number"] for t in everyone if t["owner"] == "lizq"]
    other = next(t["number"] for t in everyone if t["owner"] not in (None, "lizq"))
    assert mine, "the demo gives lizq open jobs"
    code, out, _err = run("--as", "lizq", "tickets", "--json")
    assert code == 0 and [t["number"] for t in json.loads(out)] == mine
    code, out, _err = run("--as", "lizq", "ticket", "show", str(mine[0]), "--json")
    assert code == 0 and json.loads(out)["site"]["turbine"]
    code, out, err = run("--as", "lizq", "ticket", "show", str(other))
    assert code == 4 and _one_line(err) == f"ticket {other} is not one of your jobs" and not out
    code, _out, err = run("--as", "lizq", "ticket", "show", "98765")
    assert code == 4 and _one_line(err) == "ticket 98765 is not one of your jobs"
    code, _out, err = run("--as", "lizq", "ticket", "note", str(other), "hello")
    assert code == 4 and _one_line(err) == f"ticket {other} is not one of your jobs"


def test_a_dispatcher_cannot_approve_a_report(run: Run) -> None:
    code, out, _err = run("tickets", "--json", "--state", "report_submitted")
    number = json.loads(out)[0]["number"]
    code, _out, err = run("--as", "luog", "ticket", "act", str(number), "approve")
    assert code == 4
    assert _one_line(err) == "Approve report needs the QA role: luog is Dispatcher"
    code, out, _err = run("--as", "zhengk", "ticket", "act", str(number), "approve", "--json")
    assert code == 0 and json.loads(out)["state"] == "reviewed"
    code, out, _err = run("audit", "refusals", "--json")
    refused = json.loads(out)[0]
    assert (refused["actor"], refused["operation"], refused["target"]) == (
        "luog",
        "approve",
        f"ticket {number}",
    )


def test_as_is_refused_for_a_non_administrator(run: Run, db: Path) -> None:
    from windtui.services.desk import Desk

    admin = Desk.open(f"sqlite:///{db}", actor="xien")
    admin.set_staff("xien", os_logins=[])
    admin.set_staff("luog", os_logins=[_os_login()])
    admin.close()
    # The OS login now maps to luog, a dispatcher: --as is not theirs to use.
    code, _out, err = run("--as", "lizq", "whoami")
    assert code == 4
    assert _one_line(err) == (
        "--as is only for administrators and accounts the administrator trusts: luog is neither"
    )


def test_an_unknown_login_is_refused_with_how_to_add_it(run: Run) -> None:
    assert run("staff", "set", "xien", "--os-login", "someone-else")[0] == 0
    code, out, err = run("tickets")
    login = _os_login()
    assert code == 4 and not out
    line = _one_line(err)
    assert line.startswith(f"{login} is not on the staff list")
    assert f"windtui staff add {login}" in line


def test_staff_add_set_disable_by_an_administrator_only(run: Run) -> None:
    code, out, _err = run(
        "staff", "add", "newtech", "--name-zh", "新人", "--name-en", "New Tech",
        "--roles", "technician", "--os-login", "nt", "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["os_logins"] == ["nt"]
    code, _out, err = run("--as", "luog", "staff", "add", "x2", "--name-zh", "x", "--roles", "qa")
    # luog cannot even use --as here... as the administrator we can: the refusal is luog's role
    assert code == 4 and "Managing staff needs the Administrator role: luog is Dispatcher" in err
    code, _out, err = run("staff", "add", "x3", "--name-zh", "x", "--roles", "pilot")
    assert code == 4 and _one_line(err).startswith("unknown role 'pilot'")
    code, out, _err = run("staff", "disable", "newtech")
    assert code == 0 and out.strip() == "newtech disabled"
    code, _out, err = run("--as", "newtech", "tickets")
    assert code == 4 and _one_line(err).startswith("newtech is disabled")
    code, out, _err = run("staff", "list", "--json")
    people = {p["login"]: p for p in json.loads(out)}
    assert people["newtech"]["active"] is False and "admin" in people["xien"]["roles"]


def test_audit_verify_finds_an_edited_event(run: Run, db: Path) -> None:
    code, out, _err = run("audit", "verify")
    assert code == 0 and out.startswith("audit chain intact:")
    code, out, _err = run("audit", "head")
    position, digest = out.split()
    assert int(position) > 100 and len(digest) == 64
    with sqlite3.connect(db) as con:  # behind the app's back: triggers dropped first
        con.execute("DROP TRIGGER event_no_update")
        seq, number = con.execute(
            "SELECT e.chain_seq, t.number FROM event e JOIN ticket t ON t.id = e.ticket_id"
            " WHERE e.action = 'ack' ORDER BY e.chain_seq LIMIT 1"
        ).fetchone()
        con.execute("UPDATE event SET new_value = 'x' WHERE chain_seq = ?", (seq,))
    code, out, err = run("audit", "verify")
    assert code == 6 and not out
    line = _one_line(err)
    assert line.startswith(f"event {seq} was changed after it was written (ticket {number},")
    code, out, _err = run("audit", "verify", "--json")
    report = json.loads(out)
    assert code == 6 and (report["problem"], report["ticket"]) == ("edited", number)
    code, _out, err = run("--as", "luog", "audit", "verify")
    assert code == 4 and "Checking the audit log needs" in err


def test_ticket_note_goes_on_the_timeline(run: Run) -> None:
    code, out, _err = run("tickets", "--json")
    number = json.loads(out)[0]["number"]
    code, out, _err = run("ticket", "note", str(number), "called the farm: gate code 4711")
    assert code == 0
    code, out, _err = run("ticket", "show", str(number), "--json")
    notes = [e for e in json.loads(out)["events"] if e["action"] == "note"]
    assert notes[-1]["new"] == "called the farm: gate code 4711" and notes[-1]["actor"] == "xien"
    code, _out, err = run("ticket", "note", str(number), "   ")
    assert code == 4 and _one_line(err) == "a work note cannot be empty"


def _os_login() -> str:
    from windtui.services.desk import os_login

    return os_login()
