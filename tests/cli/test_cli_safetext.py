"""Hostile text typed into tickets and staff never reaches the terminal raw through the CLI.

Tables show terminal controls, bidi controls and separators as visible stand-ins; JSON escapes
them, and decodes back to exactly what was stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest

from windtui import cli
from windtui.domain.model import Action, Category, Priority
from windtui.i18n import set_language
from windtui.safetext import DANGEROUS
from windtui.services.desk import Desk, os_login

HOSTILE = "\x1b]52;c;ZXZpbA==\x07[@click=app.quit]boom[/] \u202eevil\x9b31m\u2028x"
DESCRIPTION = HOSTILE + "\nsecond line\x1b[2J"
#: Everything but the newlines that end output lines.
RAW = {chr(c) for c in DANGEROUS} - {"\n"}

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def number(desk: Desk) -> int:
    """A ticket whose every typed field is hostile, on hold with hostile evidence, owned by a
    technician with a hostile name. This process's OS login reads them as a viewer."""
    desk.add_staff(
        "reader", name_zh=HOSTILE, name_en=HOSTILE, roles=["viewer"], os_logins=[os_login()]
    )
    desk.add_staff(
        "evil", name_zh=HOSTILE, name_en=HOSTILE, roles=["technician"], base="URC\x1b[5m"
    )
    snap = desk.create_ticket(
        farm="DBC",
        category=Category.FAULT,
        priority=Priority.P2,
        title=HOSTILE,
        turbine="DBC-A07",
        description=DESCRIPTION,
        fault_code="F\x1b[1m",
        reporter=HOSTILE,
        contact=HOSTILE,
    )
    desk.act(snap.number, Action.ACK)
    desk.assign(snap.number, "evil")
    desk.act(snap.number, Action.HOLD, reason="weather", evidence=HOSTILE)
    return snap.number


@pytest.fixture
def run(sqlite_url: str, now: datetime, capsys: pytest.CaptureFixture[str]) -> Run:
    def call(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = cli.main(["--db", sqlite_url, "--now", now.isoformat(), *args])
        finally:
            set_language("en")
        out, err = capsys.readouterr()
        return code, out, err

    return call


def assert_terminal_safe(text: str) -> None:
    assert not set(text) & RAW, sorted({f"U+{ord(c):04X}" for c in set(text) & RAW})


def test_tickets_table_shows_controls_as_visible_stand_ins(run: Run, number: int) -> None:
    code, out, err = run("tickets")
    assert code == 0, err
    assert_terminal_safe(out)
    assert "␛]52;c;ZXZpbA==␇[@click=app.quit]boom[/] \ufffdevil\ufffd31m x" in out


def test_ticket_show_table_is_terminal_safe(run: Run, number: int) -> None:
    code, out, err = run("ticket", "show", str(number))
    assert code == 0, err
    assert_terminal_safe(out)
    lines = out.splitlines()
    # The description's second line stays indented under the values: it cannot pose as a field.
    second = next(line for line in lines if "second line" in line)
    assert second.startswith(" ") and second.strip() == "second line␛[2J"
    assert any("Evidence" in line for line in lines)  # the holds table, with the evidence
    assert sum("␛]52" in line for line in lines) >= 5  # title, description, reporter, contact, hold


@pytest.mark.parametrize("command", [["ticket", "show", "{n}", "--json"], ["tickets", "--json"]])
def test_json_is_terminal_safe_and_round_trips(run: Run, number: int, command: list[str]) -> None:
    code, out, err = run(*(arg.format(n=number) for arg in command))
    assert code == 0, err
    assert_terminal_safe(out)
    data = json.loads(out)
    ticket = data if isinstance(data, dict) else next(t for t in data if t["number"] == number)
    assert ticket["title"] == HOSTILE
    assert ticket["owner_name"] == HOSTILE
    if "holds" in ticket:
        assert ticket["description"] == DESCRIPTION
        assert ticket["reporter"] == HOSTILE and ticket["contact"] == HOSTILE
        assert ticket["holds"][0]["evidence"] == HOSTILE
        assert ticket["fault_code"] == "F\x1b[1m"


def test_staff_tables_and_json(run: Run, number: int) -> None:
    for command in (["staff"], ["staff", "list"]):
        code, out, err = run(*command)
        assert code == 0, err
        assert_terminal_safe(out)
        assert "␛]52" in out and "URC␛[5m" in out
    code, out, err = run("staff", "--json")
    assert code == 0, err
    assert_terminal_safe(out)
    evil = next(s for s in json.loads(out) if s["login"] == "evil")
    assert evil["name_en"] == HOSTILE and evil["base"] == "URC\x1b[5m"


def test_whoami_is_terminal_safe(run: Run, number: int) -> None:
    code, out, err = run("whoami")
    assert code == 0, err
    assert_terminal_safe(out)
    assert out.startswith("reader (␛]52")


def test_errors_that_echo_input_are_terminal_safe(run: Run, number: int) -> None:
    code, out, err = run("ticket", "act", str(number), "\x1b]8;;http://x\x07ack\u202e")
    assert code != 0 and out == ""
    assert_terminal_safe(err)
    assert err.startswith("windtui: error: ") and err.count("\n") == 1
