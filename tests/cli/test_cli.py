"""The ``windtui`` CLI in process: exit codes, one-line errors, JSON, nothing written on error."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from windtui import cli
from windtui.benchmarks import Figure
from windtui.domain.model import ClockState, Target, TicketState
from windtui.i18n import set_language

NOW = "2026-03-10T14:00:00+08:00"  # Tuesday afternoon in Beijing
ERROR_PREFIX = "windtui: error: "

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo database per module; each test works on its own copy."""
    path = tmp_path_factory.mktemp("cli") / "template.db"
    assert cli.main(["--db", f"sqlite:///{path}", "--now", NOW, "init", "--demo"]) == 0
    set_language("en")
    with sqlite3.connect(path) as con:  # fold the WAL into the file so a plain copy is complete
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.db"
    shutil.copy(template, path)
    return path


@pytest.fixture
def run(db: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """``run(*args)`` -> (exit code, stdout, stderr) against the copied demo database."""

    def call(*args: str, lang: str = "en") -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = cli.main(["--db", f"sqlite:///{db}", "--now", NOW, "--lang", lang, *args])
        finally:
            set_language("en")
        out, err = capsys.readouterr()
        return code, out, err

    return call


def fingerprint(path: Path) -> tuple[Any, ...]:
    """Everything a write would change: counters, row counts, ticket versions."""
    with sqlite3.connect(path) as con:
        return (
            con.execute("SELECT value FROM change_counter").fetchall(),
            con.execute("SELECT COUNT(*) FROM event").fetchone(),
            con.execute("SELECT COUNT(*) FROM hold").fetchone(),
            con.execute(
                "SELECT number, version, state, owner_id FROM ticket ORDER BY number"
            ).fetchall(),
            con.execute("SELECT COUNT(*) FROM policy_doc").fetchone(),
        )


# ------------------------------------------------------------------------------------- tickets


def test_tickets_json_shape(run: Run) -> None:
    code, out, err = run("tickets", "--json")
    assert code == 0 and err == ""
    tickets = json.loads(out)
    assert len(tickets) == 51  # 60 minus 7 closed and 2 cancelled
    required = {"number", "farm", "turbine", "category", "priority", "state", "title", "owner"}
    allowed_states = {s.value for s in ClockState}
    for ticket in tickets:
        assert required | {"hold", "clocks", "downtime"} <= ticket.keys()
        assert TicketState(ticket["state"]).is_open
        assert [c["target"] for c in ticket["clocks"]] == [t.value for t in Target]
        for clock in ticket["clocks"]:
            assert {"target", "due", "remaining_seconds", "percent_used", "state"} <= clock.keys()
            assert clock["state"] in allowed_states
            if clock["due"] is not None:
                assert clock["due"].endswith("+08:00")  # the farm's offset, not UTC
        if ticket["downtime"] is not None:
            assert ticket["downtime"]["seconds"] >= 0
    states = {c["state"] for t in tickets for c in t["clocks"]}
    assert {"breached", "at_risk", "paused", "met", "running", "not_applicable"} <= states
    first = next(t for t in tickets if t["number"] == 1001)
    assert first["clocks"][0]["state"] == "breached"
    assert first["clocks"][0]["remaining_seconds"] < 0


def test_tickets_filters(run: Run) -> None:
    def numbers(*args: str) -> list[dict[str, Any]]:
        code, out, _err = run("tickets", "--json", *args)
        assert code == 0
        return json.loads(out)

    assert {t["farm"] for t in numbers("--farm", "DBC")} == {"DBC"}
    assert {t["priority"] for t in numbers("--priority", "P1")} == {"P1"}
    assert {t["state"] for t in numbers("--state", "on_site")} == {"on_site"}
    assert {t["category"] for t in numbers("--category", "consulting")} == {"consulting"}
    assert len(numbers("--all")) == 60
    assert {t["state"] for t in numbers("--state", "closed")} == {"closed"}


def test_tickets_table_and_chinese_alignment(run: Run) -> None:
    code, out, _err = run("tickets")
    assert code == 0
    assert out.splitlines()[0].startswith("No.")
    assert "✗" in out and "‖" in out and "!" in out
    code, out, _err = run("tickets", "--lang", "zh_CN", lang="zh_CN")
    assert code == 0
    lines = out.splitlines()
    assert "工单号" in lines[0]
    # Every row's title column starts at the same terminal cell offset as the header's.
    header = lines[0]
    title_col = cell_len(header[: header.index("标题")])
    rows = [line for line in lines[2:] if line[:4].isdigit()]
    assert len(rows) == 51
    for row in rows:
        title = row.split("  ")[-1].strip()
        assert cell_len(row[: row.rindex(title)]) == title_col, row


def test_table_counts_cjk_as_two_cells() -> None:
    text = cli.table(["Name", "X"], [["达坂城", "1"], ["DBC", "2"]], fit_last=False)
    lines = text.splitlines()
    positions = {cell_len(line[: line.rindex(line.split()[-1])]) for line in lines[2:]}
    assert positions == {8}  # "达坂城" is 6 cells wide, plus two spaces


def test_human_durations() -> None:
    assert cli.human(3 * 86_400 + 4 * 3_600) == "3d04h"
    assert cli.human(3_900) == "1h05m"
    assert cli.human(-600) == "-10m"
    assert cli.human(None) == "–"


# ---------------------------------------------------------------------------------- ticket ...


def test_ticket_create_act_assign_show(run: Run, db: Path) -> None:
    code, out, err = run(
        "ticket", "create", "--farm", "DBC", "--turbine", "A09", "--category", "fault",
        "--priority", "P2", "--title", "A09 pitch motor over-temperature", "--fault-code", "PT-OT",
        "--channel", "scada", "--turbine-stopped", "--at", "2026-03-10T13:00",
    )  # fmt: skip
    assert (code, err) == (0, "")
    number = int(out.strip())
    assert number == 1061
    code, out, _err = run("ticket", "act", str(number), "ack", "--at=-30m", "--json")
    assert code == 0
    acked = json.loads(out)
    assert acked["state"] == "acknowledged"
    assert acked["clocks"][0]["state"] == "met"
    assert acked["received"] == "2026-03-10T13:00:00+08:00"  # bare --at: the farm's time
    assert run("ticket", "act", str(number), "feedback")[0] == 0
    code, out, _err = run("ticket", "act", str(number), "dispatch", "--tech", "lizq")
    assert code == 0 and "Dispatched" in out
    code, out, _err = run("ticket", "assign", str(number), "alim")
    assert code == 0 and "Ali Memet" in out
    code, out, _err = run(
        "ticket", "act", str(number), "hold", "--reason", "weather",
        "--evidence", "10-min wind 14.2 m/s at A09 nacelle",
    )  # fmt: skip
    assert code == 0
    code, out, _err = run("ticket", "show", str(number), "--json")
    shown = json.loads(out)
    assert shown["owner"] == "alim" and shown["hold"] == "weather"
    assert shown["holds"][0]["evidence"] == "10-min wind 14.2 m/s at A09 nacelle"
    assert shown["events"][0]["action"] == "create"
    assert "resume" in shown["allowed_actions"]
    assert shown["downtime"]["since"] == "2026-03-10T13:00:00+08:00"
    code, out, _err = run("ticket", "show", str(number))
    assert code == 0
    assert "A09 pitch motor over-temperature" in out
    assert "2026-03-10 13:00" in out  # the timeline in the farm's timezone
    assert "Allowed actions:" in out


def _p3_with_a_closed_weather_hold(run: Run) -> int:
    """The README example: a P3 fault at a 24x7 farm, held 4 h for weather, then resumed."""
    code, out, _err = run(
        "ticket", "create", "--farm", "HTX", "--turbine", "A03", "--category", "fault",
        "--priority", "P3", "--title", "A03 converter over-temperature alarm",
        "--at", "2026-03-09T09:00",
    )  # fmt: skip
    assert code == 0
    number = int(out)
    for args in (
        ["ack", "--at", "2026-03-09T09:10"],
        ["feedback", "--at", "2026-03-09T09:40"],
        ["dispatch", "--tech", "lizq", "--at", "2026-03-09T10:00"],
        ["hold", "--reason", "weather", "--evidence", "wind 16 m/s", "--at", "2026-03-09T11:00"],
        ["resume", "--at", "2026-03-09T15:00"],
    ):
        assert run("ticket", "act", str(number), *args)[0] == 0
    return number


def test_ticket_set_recalculates_from_receipt(run: Run) -> None:
    number = _p3_with_a_closed_weather_hold(run)
    reason = "customer: the whole A string is down"
    code, out, err = run("ticket", "set", str(number), "--priority", "P1", "--reason", reason)
    assert (code, err) == (0, "")
    assert out.startswith(f"ticket {number} is now P1 critical · Fault repair\n")
    # 09:00 + 24 h (P1) + the 4 h weather hold = 13:00 the next day, an hour ago.
    onsite = next(line for line in out.splitlines() if line.startswith("On site"))
    assert "Breached" in onsite and "2026-03-10 13:00" in onsite and "-1h00m" in onsite
    code, out, _err = run("ticket", "show", str(number))
    assert "Reclassified" in out and "P3 derated/alarm → P1 critical" in out and reason in out
    code, out, _err = run(
        "ticket", "set", str(number), "--category", "infrastructure", "--reason", "string fault",
        "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert (data["priority"], data["category"], data["version"]) == ("P1", "infrastructure", 8)
    clock = next(c for c in data["clocks"] if c["target"] == "onsite")
    assert (clock["due"], clock["state"]) == ("2026-03-10T13:00:00+08:00", "breached")
    assert clock["start"] == "2026-03-09T09:00:00+08:00"
    code, out, _err = run("ticket", "show", str(number), "--json")
    events = [e for e in json.loads(out)["events"] if e["action"] == "reclassify"]
    assert [(e["field"], e["old"], e["new"], e["note"]) for e in events] == [
        ("priority", "P3", "P1", reason),
        ("category", "fault", "infrastructure", "string fault"),
    ]


@pytest.mark.parametrize(
    ("args", "exit_code", "named"),
    [
        (["1011", "--priority", "P2", "--reason", "x"], 4, "already P2"),
        (["1011", "--category", "consulting", "--reason", "x"], 4, "needs no site visit"),
        (["1052", "--priority", "P2", "--reason", "x"], 4, "ticket 1052 is closed"),
        (["1011", "--priority", "P1", "--reason", " "], 4, "needs a reason"),
        (["9999", "--priority", "P1", "--reason", "x"], 3, "ticket 9999 not found"),
        (["1011", "--priority", "P9", "--reason", "x"], 1, "unknown priority 'P9'"),
        (["1011", "--category", "wind", "--reason", "x"], 1, "unknown category 'wind'"),
        (["1011", "--reason", "x"], 2, "--priority and/or --category"),
        (["1011", "--priority", "P1"], 2, "--reason"),
    ],
)
def test_ticket_set_errors_are_one_line_and_write_nothing(
    run: Run, db: Path, args: list[str], exit_code: int, named: str
) -> None:
    before = fingerprint(db)
    code, out, err = run("ticket", "set", *args)
    assert (code, out) == (exit_code, "")
    assert err.count("\n") == 1 and err.startswith(ERROR_PREFIX) and named in err, err
    assert fingerprint(db) == before


def test_ticket_show_in_chinese(run: Run) -> None:
    code, out, _err = run("ticket", "show", "1030", lang="zh_CN")
    assert code == 0
    assert "依据" in out and "机舱" not in out  # evidence was loaded in English
    assert "可执行操作" in out


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["tickets", "--farm", "XXX"], "XXX"),
        (["tickets", "--priority", "P9"], "P9"),
        (["turbines", "NOPE"], "NOPE"),
        (["ticket", "show", "9999"], "9999"),
        (["ticket", "act", "9999", "ack"], "9999"),
        (["ticket", "act", "1001", "arrive"], "arrive"),  # illegal transition
        (["ticket", "act", "1001", "fly"], "fly"),  # unknown action
        (["ticket", "act", "1030", "resume", "--at", "2026-13-01"], "2026-13-01"),
        (["ticket", "act", "1011", "hold", "--reason", "weather"], "evidence"),
        (["ticket", "assign", "1011", "ghost"], "ghost"),
        (["ticket", "assign", "1011", "luog"], "luog"),  # a dispatcher is not a technician
        (["ticket", "act", "1002", "ack", "--at", "2026-03-11T09:00+08:00"], "future"),
        (
            [
                "ticket",
                "create",
                "--farm",
                "ZZZ",
                "--category",
                "fault",
                "--priority",
                "P2",
                "--title",
                "x",
            ],
            "ZZZ",
        ),
        (
            [
                "ticket",
                "create",
                "--farm",
                "DBC",
                "--turbine",
                "Q42",
                "--category",
                "fault",
                "--priority",
                "P2",
                "--title",
                "x",
            ],
            "Q42",
        ),
        (
            [
                "ticket",
                "create",
                "--farm",
                "DBC",
                "--category",
                "fault",
                "--priority",
                "P2",
                "--title",
                "x",
                "--number",
                "1001",
            ],
            "1001",
        ),
        (
            [
                "ticket",
                "create",
                "--farm",
                "DBC",
                "--category",
                "gossip",
                "--priority",
                "P2",
                "--title",
                "x",
            ],
            "gossip",
        ),
        (
            [
                "ticket",
                "create",
                "--farm",
                "DBC",
                "--category",
                "fault",
                "--priority",
                "P2",
                "--title",
                "x",
                "--at",
                "2026-13-01",
            ],
            "2026-13-01",
        ),
        (["policy", "load", "/nonexistent/policy.toml"], "/nonexistent/policy.toml"),
        (["bench", "--only", "no-such-bench"], "no-such-bench"),
        (["ticket", "show", "abc"], "abc"),  # argparse's own complaint, still one line
        (["--now", "yesterday-ish", "tickets"], "yesterday-ish"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    run: Run, db: Path, args: list[str], named: str
) -> None:
    before = fingerprint(db)
    code, out, err = run(*args)
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(ERROR_PREFIX), err
    assert named in err
    assert fingerprint(db) == before


def test_unreadable_policy_file(run: Run, db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[defaults.targets]\nacknowledge = '1x'\n", "utf-8")
    before = fingerprint(db)
    code, _out, err = run("policy", "load", str(bad))
    assert code != 0 and err.startswith(ERROR_PREFIX) and err.count("\n") == 1
    assert "bad.toml" in err
    assert fingerprint(db) == before


def test_error_exit_codes_distinguish_kinds(run: Run) -> None:
    assert run("ticket", "show", "9999")[0] == 3  # not found
    assert run("ticket", "act", "1001", "arrive")[0] == 4  # refused
    assert run("ticket", "show", "abc")[0] == 2  # usage


# --------------------------------------------------------------------------- reference data


def test_farms_turbines_staff(run: Run) -> None:
    code, out, _err = run("farms", "--json")
    farms = json.loads(out)
    assert code == 0 and len(farms) == 8
    assert sum(f["turbine_count"] for f in farms) == 312
    code, out, _err = run("turbines", "DBC", "--json")
    assert code == 0 and len(json.loads(out)) == 50
    code, out, _err = run("staff", "--json")
    staff = json.loads(out)
    assert code == 0 and len(staff) == 20 and all("technician" in s["roles"] for s in staff)
    code, out, _err = run("farms", lang="zh_CN")
    assert code == 0 and "达坂城风电场" in out
    code, out, _err = run("staff")
    assert code == 0 and "Wang Jianguo" in out


def test_policy_show_and_load(run: Run, db: Path) -> None:
    code, out, _err = run("policy", "show", "--json")
    policy = json.loads(out)
    assert code == 0 and len(policy["rules"]) == 24
    p1 = next(r for r in policy["rules"] if r["priority"] == "P1" and r["category"] == "fault")
    assert p1["targets"]["onsite"] == 24 * 3600
    code, out, _err = run("policy", "show")
    assert code == 0 and "xinjiang-day" in out
    shipped = Path(__file__).resolve().parents[2] / "data" / "sla-policy.toml"  # the checkout
    code, out, _err = run("policy", "load", str(shipped))
    assert code == 0 and "loaded" in out


# ------------------------------------------------------------------------- init, demo, console


def test_init_refuses_demo_over_tickets_unless_forced(run: Run, db: Path) -> None:
    before = fingerprint(db)
    code, _out, err = run("init", "--demo")
    assert code != 0 and "--force" in err and err.count("\n") == 1
    assert fingerprint(db) == before
    code, out, _err = run("init")  # a plain init is an idempotent upgrade
    assert code == 0 and fingerprint(db) == before
    code, out, _err = run("init", "--demo", "--force")
    assert code == 0 and "60 tickets" in out


def test_demo_load_only_uses_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("WINDTUI_DB", f"sqlite:///{tmp_path / 'production.db'}")
    for _ in range(2):  # recreated each time
        assert cli.main(["--now", NOW, "--lang", "en", "demo", "--load-only"]) == 0
    out = capsys.readouterr().out
    assert out.count("60 tickets") == 2
    assert (tmp_path / "xdg" / "windtui" / "demo.db").exists()
    assert not (tmp_path / "production.db").exists()  # $WINDTUI_DB is never the demo's target


def test_console_gets_desk_arguments_and_mouse_override(
    run: Run, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import windtui.tui.app as app

    seen: dict[str, Any] = {}

    def fake(**kwargs: Any) -> int:
        seen.update(kwargs)
        return 0

    monkeypatch.setattr(app, "run_console", fake)
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 5555 10.0.0.2 22")
    assert run()[0] == 0
    assert seen["db_url"] == f"sqlite:///{db}"
    assert seen["now"].isoformat() == "2026-03-10T06:00:00+00:00"
    # None lets the console decide (off when SSH_CONNECTION is set); the flags override it.
    assert seen["lang"] == "en" and seen["mouse"] is None
    assert run("--mouse")[0] == 0 and seen["mouse"] is True
    assert run("--no-mouse")[0] == 0 and seen["mouse"] is False


# ------------------------------------------------------------------------------- bench, help


def test_bench_json_and_exit_code(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import windtui.benchmarks as benchmarks

    def fake() -> dict[str, Callable[[], list[Figure]]]:
        return {
            "fast": lambda: [Figure("refresh", 3.0, "ms", 10.0, baseline=30.0, ratio=10.0)],
            "slow": lambda: [Figure("repaint", 80.0, "ms", 50.0)],
        }

    monkeypatch.setattr(benchmarks, "registry", fake)
    code, out, _err = run("bench", "--json", "--only", "fast")
    figures = json.loads(out)
    assert code == 0
    assert set(figures[0]) >= {"name", "value", "unit", "budget", "baseline", "ratio", "ok"}
    code, out, _err = run("bench")
    assert code == 1 and "MISS" in out and "repaint" in out

    def broken() -> list[Figure]:
        raise FileNotFoundError("no policy")

    monkeypatch.setattr(benchmarks, "registry", lambda: {"broken": broken})
    code, out, err = run("bench")
    assert code == 1 and out == ""
    assert err.startswith(ERROR_PREFIX) and err.count("\n") == 1 and "broken" in err


COMMANDS = [
    [],
    ["init"],
    ["demo"],
    ["tickets"],
    ["ticket"],
    ["ticket", "create"],
    ["ticket", "act"],
    ["ticket", "assign"],
    ["ticket", "set"],
    ["ticket", "show"],
    ["farms"],
    ["turbines"],
    ["staff"],
    ["policy"],
    ["policy", "load"],
    ["policy", "show"],
    ["bench"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "windtui")
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: windtui")
    assert cli.main(["--lang", "zh_CN", *command, "--help"]) == 0
    set_language("en")
    assert "显示本帮助并退出" in capsys.readouterr().out


def test_missing_subcommand_is_a_usage_error(run: Run) -> None:
    code, _out, err = run("ticket")
    assert code == 2 and err.startswith(ERROR_PREFIX) and "ticket --help" in err
