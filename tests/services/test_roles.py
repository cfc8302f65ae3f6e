"""Roles enforced in the services: each role called directly, refusals logged, identity rules."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from quality_steps import act

from windtui.domain import roles as access
from windtui.domain.model import Action, Role, TicketState
from windtui.errors import Forbidden, NotFound, Refused
from windtui.services import audit
from windtui.services.desk import Desk
from windtui.store.models import Event, Refusal, Staff

A, S = Action, TicketState
NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # the fixtures' frozen clock

#: One person per role (the fixture's "tester" holds admin, dispatcher, qa and supervisor).
PEOPLE = {
    "dispatcher": "chenx",
    "technician": "wangjg",
    "qa": "qazl",
    "supervisor": "supm",
    "admin": "adm",
    "viewer": "viewy",
}


@pytest.fixture
def staffed(any_desk: Desk) -> Desk:
    """The tiny fleet plus one person for each role not seeded yet."""
    for role in ("qa", "supervisor", "admin", "viewer"):
        any_desk.add_staff(PEOPLE[role], name_zh=role, name_en=role, roles=[role])
    return any_desk


@pytest.fixture
def as_(staffed: Desk) -> Iterator[Callable[[str], Desk]]:
    """``as_(login)``: the same database, acting as ``login`` (the fixture's desk afterwards)."""

    def switch(login: str) -> Desk:
        staffed.actor = login
        return staffed

    yield switch
    staffed.actor = "tester"


def _ticket_at(desk: Desk, state: TicketState, *, owner: str = "wangjg") -> int:
    """A fault ticket walked to ``state`` by the tester (all desk roles)."""
    desk.actor = "tester"
    number = desk.create_ticket(farm="DBC", category="fault", priority="P2", title="Pitch").number
    path = [A.ACK, A.FEEDBACK, A.DISPATCH, A.DEPART, A.ARRIVE, A.RESOLVE, A.SUBMIT]
    target = {
        S.RECEIVED: 0,
        S.ACKNOWLEDGED: 1,
        S.FEEDBACK_GIVEN: 2,
        S.DISPATCHED: 3,
        S.EN_ROUTE: 4,
        S.ON_SITE: 5,
        S.RESOLVED: 6,
        S.REPORT_SUBMITTED: 7,
    }[state]
    for action in path[:target]:
        act(desk, number, action, technician=owner if action is A.DISPATCH else None)
    return number


# (operation, state the ticket must be in, extra kwargs) -> the roles that may, on someone
# else's ticket (the technician below is never crew on it).
CASES: list[tuple[Action, TicketState, dict[str, Any]]] = [
    (A.ACK, S.RECEIVED, {}),
    (A.DISPATCH, S.FEEDBACK_GIVEN, {"technician": "lihua"}),
    (A.DEPART, S.DISPATCHED, {}),
    (A.HOLD, S.ON_SITE, {"reason": "weather", "evidence": "wind 18 m/s"}),
    (A.RESOLVE, S.ON_SITE, {}),
    (A.APPROVE, S.REPORT_SUBMITTED, {}),
    (A.RETURN, S.REPORT_SUBMITTED, {"reason": "no photos"}),
    (A.CANCEL, S.ACKNOWLEDGED, {"reason": "duplicate"}),
]


@pytest.mark.parametrize("role", list(PEOPLE))
@pytest.mark.parametrize(("action", "state", "extra"), CASES, ids=[c[0].value for c in CASES])
def test_each_role_called_directly(
    staffed: Desk, role: str, action: Action, state: TicketState, extra: dict[str, Any]
) -> None:
    number = _ticket_at(staffed, state, owner="lihua")  # never the technician under test's
    before = staffed.ticket(number)
    staffed.actor = PEOPLE[role]
    held = {Role(role)}
    if access.permits(held, action):
        after = staffed.act(number, action, **extra)
        assert after.version == before.version + 1
        assert Event.select().where(Event.actor == PEOPLE[role]).exists()
    else:
        with pytest.raises(Forbidden) as refused:
            staffed.act(number, action, **extra)
        message = str(refused.value)
        assert "\n" not in message
        if role == "technician" and action.value in access.CREW_OPERATIONS:
            assert message == f"ticket {number} is not one of your jobs"
        else:
            needed = " or ".join(r.label for r in access.needed_roles(action))
            assert f"needs the {needed} role" in message and PEOPLE[role] in message
        staffed.actor = "tester"
        assert staffed.ticket(number) == before  # nothing written
        last = Refusal.select().order_by(Refusal.id.desc()).first()
        assert (last.actor, last.operation) == (PEOPLE[role], action.value)


def test_dispatcher_cannot_approve_a_report(staffed: Desk) -> None:
    number = _ticket_at(staffed, S.REPORT_SUBMITTED)
    staffed.actor = "chenx"
    with pytest.raises(Forbidden, match="Approve report needs the QA role: chenx is Dispatcher"):
        staffed.act(number, A.APPROVE)
    staffed.actor = "qazl"
    assert staffed.act(number, A.APPROVE).state is S.REVIEWED


def test_technician_works_only_their_own_jobs(staffed: Desk) -> None:
    mine = _ticket_at(staffed, S.DISPATCHED, owner="wangjg")
    theirs = _ticket_at(staffed, S.DISPATCHED, owner="lihua")
    unowned = staffed.create_ticket(farm="DBC", category="fault", priority="P3", title="x").number
    staffed.actor = "wangjg"
    assert [t.number for t in staffed.tickets()] == [mine]
    assert [t.number for t in staffed.open_tickets()] == [mine]
    assert [t.number for t in staffed.changed_since(0)[1]] == [mine]
    assert staffed.detail(mine).site.turbine is None  # the facts of their own job
    for number in (theirs, unowned, 99999):  # a guessed number reads exactly like another's
        for read in (staffed.ticket, staffed.detail):
            with pytest.raises(Forbidden, match=f"^ticket {number} is not one of your jobs$"):
                read(number)
        with pytest.raises(Forbidden, match=f"^ticket {number} is not one of your jobs$"):
            staffed.act(number, A.DEPART)
        with pytest.raises(Forbidden, match=f"^ticket {number} is not one of your jobs$"):
            staffed.add_note(number, "hello")
    assert staffed.act(mine, A.DEPART).state is S.EN_ROUTE
    assert staffed.act(mine, A.ARRIVE).state is S.ON_SITE
    staffed.act(mine, A.HOLD, reason="weather", evidence="10-min wind 14.2 m/s at A07 nacelle")
    staffed.act(mine, A.RESUME, reason="wind dropped")
    staffed.add_note(mine, "replaced pitch motor encoder")
    assert staffed.act(mine, A.RESOLVE).state is S.RESOLVED
    with pytest.raises(Forbidden, match="Close needs the Dispatcher role: wangjg is Technician"):
        staffed.act(mine, A.CLOSE)
    actors = {(e.action, e.actor) for e in staffed.detail(mine).events}
    assert {("depart", "wangjg"), ("note", "wangjg"), ("resolve", "wangjg")} <= actors
    refused = {(r.actor, r.target) for r in Refusal.select()}
    assert ("wangjg", f"ticket {theirs}") in refused and ("wangjg", "ticket 99999") in refused


def test_viewer_reads_everything_and_writes_nothing(staffed: Desk) -> None:
    number = _ticket_at(staffed, S.ACKNOWLEDGED)
    staffed.actor = "viewy"
    assert [t.number for t in staffed.tickets()] == [number]
    assert staffed.detail(number).ticket.number == number
    for write in (
        lambda: staffed.add_note(number, "x"),
        lambda: staffed.assign(number, "lihua"),
        lambda: staffed.reclassify(number, priority="P1", reason="x"),
        lambda: staffed.create_ticket(farm="DBC", category="fault", priority="P3", title="y"),
        lambda: staffed.add_staff("x1", name_zh="x", name_en="x", roles=["viewer"]),
    ):
        with pytest.raises(Forbidden, match="viewy is Viewer"):
            write()


def test_supervisor_reassigns_reclassifies_cancels_but_does_not_dispatch(staffed: Desk) -> None:
    number = _ticket_at(staffed, S.DISPATCHED)
    staffed.actor = "supm"
    assert staffed.assign(number, "lihua").owner == "lihua"
    assert staffed.reclassify(number, priority="P1", reason="blade crack").priority.value == "P1"
    with pytest.raises(Forbidden, match="Depart needs the Dispatcher or Technician role"):
        staffed.act(number, A.DEPART)
    assert staffed.act(number, A.CANCEL, reason="customer withdrew").state is S.CANCELLED


def test_only_administrators_manage_staff_and_policy(staffed: Desk, tmp_path: Path) -> None:
    staffed.actor = "chenx"
    with pytest.raises(Forbidden, match="Managing staff needs the Administrator role"):
        staffed.add_staff("newbie", name_zh="新", name_en="New", roles=["technician"])
    with pytest.raises(Forbidden, match="Loading a policy needs the Administrator role"):
        staffed.load_policy_file(tmp_path / "whatever.toml")
    with pytest.raises(Forbidden, match="Setting up the database needs the Administrator"):
        staffed.reset()
    staffed.actor = "adm"
    added = staffed.add_staff(
        "lizq", name_zh="李志强", name_en="Li Zhiqiang", roles=["technician"], os_logins=["li"]
    )
    assert added.roles == ("technician",) and added.os_logins == ("li",)
    events = list(Event.select().where(Event.action == "staff.add", Event.note == "lizq"))
    assert {e.field for e in events} == {"login", "name", "roles", "os_logins"}
    assert {e.actor for e in events} == {"adm"}


def test_staff_set_disable_and_the_last_administrator(staffed: Desk) -> None:
    staffed.actor = "adm"
    person = staffed.set_staff("lihua", roles=["technician", "qa"], os_logins=["lh", "lihua2"])
    assert person.roles == ("technician", "qa") and person.os_logins == ("lh", "lihua2")
    staffed.actor = "lh"  # an extra OS login identifies the same person
    assert staffed.identity.login == "lihua"
    staffed.actor = "adm"
    with pytest.raises(Refused, match="OS login lh already identifies lihua"):
        staffed.set_staff("wangjg", os_logins=["lh"])
    with pytest.raises(Refused, match="OS login chenx already identifies chenx"):
        staffed.set_staff("wangjg", os_logins=["chenx"])
    staffed.disable_staff("lihua")
    staffed.actor = "lihua"
    with pytest.raises(Refused, match="lihua is disabled: an administrator re-enables it"):
        staffed.tickets()
    staffed.actor = "adm"
    staffed.set_staff("tester", roles=["dispatcher"])  # tester is no longer an administrator
    with pytest.raises(Refused, match="adm is the last active administrator"):
        staffed.disable_staff("adm")
    with pytest.raises(Refused, match="adm is the last active administrator"):
        staffed.set_staff("adm", roles=["viewer"])
    with pytest.raises(Refused, match="nothing to change"):
        staffed.set_staff("adm", roles=["admin"])
    staffed.actor = "adm"


@pytest.mark.parametrize(
    ("login", "roles", "message"),
    [
        ("bad login", ["technician"], "staff login 'bad login' is not valid"),
        ("", ["technician"], "staff login '' is not valid"),
        ("x\x1b[31m", ["technician"], "is not valid"),
        ("ok1", ["pilot"], "unknown role 'pilot'"),
        ("ok2", [], "give at least one role"),
        ("chenx", ["technician"], "staff chenx already exists"),
    ],
)
def test_bad_staff_input_is_one_line_and_writes_nothing(
    staffed: Desk, login: str, roles: list[str], message: str
) -> None:
    staffed.actor = "adm"
    count = Staff.select().count()
    with pytest.raises(Refused, match=message.replace("[", r"\[")) as err:
        staffed.add_staff(login, name_zh="名", name_en="Name", roles=roles)
    assert "\n" not in str(err.value)
    assert Staff.select().count() == count


def test_unknown_login_is_refused_naming_it_and_how_to_add_it(sqlite_url: str) -> None:
    desk = Desk.open(sqlite_url, now=NOW, actor="tester")
    desk.add_staff("tester", name_zh="测", name_en="T", roles=["admin"])
    desk.close()
    with pytest.raises(Refused) as err:
        Desk.open_for_login(sqlite_url, now=NOW, requested=None)  # the OS login of this test
    login = Desk.open(sqlite_url).os_login
    assert f"{login} is not on the staff list" in str(err.value)
    assert f"windtui staff add {login}" in str(err.value)


def test_as_is_for_administrators_and_trusted_accounts(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = Desk.open(sqlite_url, now=NOW, actor="boss")
    desk.add_staff("boss", name_zh="管", name_en="Boss", roles=["admin"])
    me = desk.os_login
    desk.add_staff("tech", name_zh="技", name_en="Tech", roles=["technician"], os_logins=[me])
    desk.add_staff("lizq", name_zh="李", name_en="Li", roles=["technician"])
    desk.close()
    monkeypatch.setenv("WINDTUI_SYSTEM_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(Forbidden, match=r"--as is only for administrators .*: tech is neither"):
        Desk.open_for_login(sqlite_url, now=NOW, requested="lizq")
    config = tmp_path / "windtui.toml"
    config.write_text(f'[identity]\ntrusted_accounts = ["{me}"]\n', "utf-8")
    config.chmod(0o644)
    monkeypatch.setenv("WINDTUI_SYSTEM_CONFIG", str(config))
    if os.getuid() == 0:  # a root-owned file: the administrator's word counts
        desk = Desk.open_for_login(sqlite_url, now=NOW, requested="lizq")
        assert (desk.identity.login, desk.identity.via) == ("lizq", "as")
        desk.close()
        config.chmod(0o666)  # writable by anyone: ignored, with one line saying so
        with pytest.raises(Exception, match="must belong to root and be writable by root only"):
            Desk.open_for_login(sqlite_url, now=NOW, requested="lizq")
    else:
        with pytest.raises(Exception, match="must belong to root"):
            Desk.open_for_login(sqlite_url, now=NOW, requested="lizq")


def test_refusals_stay_out_of_the_chain(staffed: Desk) -> None:
    number = _ticket_at(staffed, S.REPORT_SUBMITTED)
    before = audit.head(staffed)
    staffed.actor = "chenx"
    for _ in range(3):
        with pytest.raises(Forbidden):
            staffed.act(number, A.APPROVE)
    staffed.actor = "tester"
    assert audit.head(staffed) == before
    assert audit.verify(staffed).ok
    refusals = audit.refusals(staffed)
    assert [(r.actor, r.operation, r.target) for r in refusals[:3]] == [
        ("chenx", "approve", f"ticket {number}")
    ] * 3
    assert refusals[0].needed == ("qa",)


def test_audit_reads_need_qa_supervisor_or_admin(staffed: Desk) -> None:
    staffed.actor = "chenx"
    with pytest.raises(Forbidden, match="Checking the audit log needs the QA or Supervisor or"):
        audit.verify(staffed)
    staffed.actor = "qazl"
    assert audit.verify(staffed).ok


@given(
    roles=st.sets(st.sampled_from(list(Role))),
    operation=st.sampled_from(sorted(access.OPERATIONS)),
    crew=st.booleans(),
)
def test_permission_table_properties(roles: set[Role], operation: str, crew: bool) -> None:
    allowed = access.permits(roles, operation, crew=crew)
    # Holding more roles never takes a right away; viewers and nobody write nothing.
    assert allowed <= access.permits(roles | {Role.DISPATCHER}, operation, crew=crew)
    assert access.permits(roles, operation, crew=False) <= access.permits(
        roles, operation, crew=True
    )
    if roles <= {Role.VIEWER}:
        assert allowed == (operation in access.READ_ONLY_OPERATIONS and Role.VIEWER in roles)
    # Only QA reviews; never a dispatcher or a technician alone.
    if operation in (A.APPROVE.value, A.RETURN.value):
        assert allowed == (Role.QA in roles)
    if allowed:
        assert set(access.needed_roles(operation)) & (
            roles | ({Role.TECHNICIAN} if crew else set())
        )


def test_not_found_still_names_the_ticket_for_desk_roles(staffed: Desk) -> None:
    with pytest.raises(NotFound, match="ticket 4242 not found"):
        staffed.detail(4242)
