"""Quality records (issue 7): the repair report behind submit, QA reviews, the satisfaction
survey behind follow-up, improvement actions and the suggestions register.

Every refusal is one line naming the wrong thing and leaves no trace (compared row by row)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from windtui.domain.model import Action, TicketState
from windtui.errors import Conflict, Forbidden, NotFound, Refused, WindtuiError
from windtui.services import quality
from windtui.services.desk import Desk
from windtui.services.records import (
    ImprovementInput,
    ReportHoursInput,
    ReportInput,
    ReportPartInput,
    SuggestionInput,
)
from windtui.store.models import (
    ChangeCounter,
    Event,
    Improvement,
    RepairReport,
    ReportHours,
    ReportPart,
    Review,
    Suggestion,
    Survey,
    Ticket,
)

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # the fixtures' frozen clock
A, S = Action, TicketState
START = NOW - timedelta(hours=10)

REPORT = ReportInput(
    diagnosis="Pitch axis 2 encoder cable chafed at the slip ring",
    work_done="Replaced the cable; pitch test 0-90 degrees three times",
    root_cause="Cable tie missing after the last service",
    fault_code_confirmed="GW-PITCH-017",
    parts=(ReportPartInput("GW-ENC-CBL-5M", "Encoder cable 5 m", 1),),
    hours=(ReportHoursInput("wangjg", 3.5), ReportHoursInput("lihua", 3.5)),
    fixed=True,
    first_time_fix=True,
    attachments=("photos/A07 before.jpg", "https://files.example/scada.csv"),
)


def counts(desk: Desk) -> tuple[Any, ...]:
    """Every row a quality write touches (refusal rows are not: they are the log of refusals)."""
    desk.data_version()  # points the model proxy at this desk's database
    return (
        Event.select().count(),
        ChangeCounter.get_by_id(1).value,
        [(t.number, t.version, t.state) for t in Ticket.select().order_by(Ticket.number)],
        [(r.revision, r.diagnosis, r.submitted_at) for r in RepairReport.select()],
        ReportPart.select().count(),
        ReportHours.select().count(),
        Review.select().count(),
        [(s.score, s.comments) for s in Survey.select()],
        [(i.status, i.owner_id, i.due, i.notes) for i in Improvement.select()],
        [(s.status, s.decided_on) for s in Suggestion.select()],
    )


def walk(desk: Desk, state: TicketState, *, category: str = "fault", owner: str = "wangjg") -> int:
    """A ticket taken to ``state`` by the tester (all desk roles), one step an hour."""
    desk.actor = "tester"
    turbine = "A07" if category != "consulting" else None
    number = desk.create_ticket(
        farm="DBC", category=category, priority="P2", title="Pitch fault", turbine=turbine, at=START
    ).number
    steps = [(A.ACK, {}), (A.FEEDBACK, {})]
    if category != "consulting":
        steps += [(A.DISPATCH, {"technician": owner}), (A.DEPART, {}), (A.ARRIVE, {})]
    steps += [(A.RESOLVE, {}), (A.SUBMIT, {}), (A.APPROVE, {}), (A.FOLLOWUP, {})]
    for i, (action, extra) in enumerate(steps, 1):
        at = START + timedelta(hours=i)
        if action is A.SUBMIT:  # the crew (or a dispatcher) writes it; QA reviews it
            desk.actor = owner if category != "consulting" else "chenx"
            quality.write_report(desk, number, REPORT if category != "consulting" else BRIEF)
            desk.actor = "tester"
        if action is A.FOLLOWUP:
            quality.record_survey(desk, number, 5, "", contacted_at=at)
        if desk.act(number, action, at=at, **extra).state is state:
            break
    assert desk.ticket(number).state is state
    return number


BRIEF = ReportInput(
    diagnosis="Asked for the yaw-error trend",
    work_done="Sent the analysis",
    fixed=True,
    first_time_fix=True,
)


@pytest.fixture
def qa(any_desk: Desk) -> Desk:
    """The tiny fleet plus a QA-only person (qazl) and a supervisor (supm)."""
    any_desk.add_staff("qazl", name_zh="质检", name_en="QA Zl", roles=["qa"])
    any_desk.add_staff("supm", name_zh="主管", name_en="Sup M", roles=["supervisor"])
    return any_desk


# ------------------------------------------------------------------------------ the report


def test_report_written_by_the_crew_and_submitted(qa: Desk) -> None:
    number = walk(qa, S.RESOLVED)
    qa.actor = "wangjg"  # the technician on the job
    before = qa.ticket(number).version
    record = quality.write_report(qa, number, REPORT, expected_version=before)
    assert record.revision == 0 and record.submitted_at is None and record.missing == ()
    assert record.author == "wangjg"
    assert [(h.staff, h.name_en, h.hours) for h in record.hours] == [
        ("wangjg", "Wang Jianguo", 3.5),
        ("lihua", "Li Hua", 3.5),
    ]
    assert record.parts[0].quantity == 1.0
    assert record.attachments == REPORT.attachments
    assert qa.ticket(number).version == before + 1
    events = [e for e in qa.detail(number).events if e.action == "report"]
    assert {e.field for e in events} == {
        "diagnosis", "work_done", "root_cause", "fault_code_confirmed", "parts", "hours",
        "fixed", "first_time_fix", "attachments",
    }  # fmt: skip
    assert all(e.actor == "wangjg" and e.old is None for e in events)
    assert json.loads(next(e.new for e in events if e.field == "hours"))[0] == {
        "staff": "wangjg",
        "hours": 3.5,
    }
    at = NOW - timedelta(minutes=5)
    snap = qa.act(number, A.SUBMIT, at=at)
    assert snap.state is S.REPORT_SUBMITTED
    stored = quality.report(qa, number)
    assert stored is not None and (stored.revision, stored.submitted_at) == (1, at)
    submit = [e for e in qa.detail(number).events if e.action == "submit"]
    assert ("report_revision", "0", "1") in {(e.field, e.old, e.new) for e in submit}


def test_a_revision_logs_only_the_changed_fields_and_a_resave_writes_nothing(qa: Desk) -> None:
    number = walk(qa, S.RESOLVED)
    quality.write_report(qa, number, REPORT)
    seen = len(qa.detail(number).events)
    before = counts(qa)
    again = quality.write_report(qa, number, REPORT)  # unchanged: no event, no version
    assert counts(qa) == before and again.revision == 0
    changed = ReportInput(**{**_fields(REPORT), "root_cause": "Tie cut by the rotor lock pin"})
    quality.write_report(qa, number, changed)
    new = qa.detail(number).events[seen:]
    assert [(e.action, e.field, e.old, e.new) for e in new] == [
        ("report", "root_cause", REPORT.root_cause, "Tie cut by the rotor lock pin")
    ]


def test_a_stale_version_is_a_conflict(qa: Desk) -> None:
    number = walk(qa, S.RESOLVED)
    version = qa.ticket(number).version
    quality.write_report(qa, number, REPORT, expected_version=version)
    before = counts(qa)
    with pytest.raises(Conflict, match=f"ticket {number} was changed by tester"):
        quality.write_report(qa, number, BRIEF, expected_version=version)
    assert counts(qa) == before


def test_a_technician_writes_only_their_own_report_and_qa_writes_none(qa: Desk) -> None:
    mine = walk(qa, S.RESOLVED, owner="wangjg")
    theirs = walk(qa, S.RESOLVED, owner="lihua")
    before = counts(qa)
    qa.actor = "wangjg"
    with pytest.raises(Forbidden, match=rf"^ticket {theirs} is not one of your jobs$"):
        quality.write_report(qa, theirs, REPORT)
    qa.actor = "qazl"
    with pytest.raises(Forbidden, match="Writing the repair report needs the Dispatcher or"):
        quality.write_report(qa, mine, REPORT)
    qa.actor = "chenx"  # a dispatcher may (e.g. typing in what the crew phoned in)
    assert counts(qa) == before
    assert quality.write_report(qa, mine, REPORT).author == "chenx"


def test_the_report_waits_for_the_resolution_and_reopens_after_a_return(qa: Desk) -> None:
    number = walk(qa, S.RESOLVED)
    fresh = qa.create_ticket(farm="DBC", category="fault", priority="P3", title="x").number
    with pytest.raises(Refused, match=rf"^ticket {fresh} is received: its repair report is"):
        quality.write_report(qa, fresh, REPORT)
    quality.write_report(qa, number, REPORT)
    qa.act(number, A.SUBMIT)
    before = counts(qa)
    with pytest.raises(Refused, match="is report submitted: its repair report is written once"):
        quality.write_report(qa, number, BRIEF)
    assert counts(qa) == before
    qa.actor = "qazl"
    qa.act(number, A.RETURN, reason="no photo of the new cable tie")
    qa.actor = "wangjg"
    revised = ReportInput(**{**_fields(REPORT), "attachments": ("photos/tie.jpg",)})
    assert quality.write_report(qa, number, revised).attachments == ("photos/tie.jpg",)
    qa.act(number, A.SUBMIT)
    assert quality.report(qa, number).revision == 2  # type: ignore[union-attr]


BAD_REPORTS: list[tuple[dict[str, Any], str]] = [
    ({"parts": (ReportPartInput("P-1", "seal", 0),)}, r"^parts\[1\]\.quantity must be more than 0"),
    ({"parts": (ReportPartInput("", "seal", 1),)}, r"^parts\[1\]\.part_number is empty$"),
    ({"parts": (ReportPartInput("P-1", "", float("nan")),)}, r"quantity must be a number"),
    ({"hours": (ReportHoursInput("wangjg", 0),)}, r"^hours\[1\]\.hours must be more than 0"),
    ({"hours": (ReportHoursInput("wangjg", -2),)}, r"hours\[1\]\.hours must be more than 0"),
    (
        {"hours": (ReportHoursInput("wangjg", 2), ReportHoursInput("wangjg", 1))},
        r"^hours\[2\]: wangjg has two hours lines",
    ),
    ({"hours": (ReportHoursInput("wang jg", 2),)}, r"'wang jg' is not a staff login"),
    ({"fixed": False, "first_time_fix": True}, r"^first_time_fix = true needs fixed = true"),
    ({"fixed": None, "first_time_fix": True}, r"^first_time_fix = true needs fixed = true"),
    ({"fixed": "yes"}, r"^fixed must be true or false$"),
    ({"attachments": ("a.jpg\nb.jpg",)}, r"^attachments\[1\] holds control characters$"),
    ({"attachments": ("  ",)}, r"^attachments\[1\] is empty$"),
    ({"diagnosis": "x" * 8001}, r"^diagnosis is at most 8000 characters \(8001 given\)$"),
    ({"fault_code_confirmed": "GW\x1b[31m"}, r"^fault_code_confirmed holds control characters"),
]


@pytest.mark.parametrize(("change", "message"), BAD_REPORTS, ids=lambda v: _id(v))
def test_bad_report_input_is_one_line_naming_the_field_and_writes_nothing(
    qa: Desk, change: dict[str, Any], message: str
) -> None:
    number = walk(qa, S.RESOLVED)
    before = counts(qa)
    with pytest.raises(Refused, match=message) as refused:
        quality.write_report(qa, number, ReportInput(**{**_fields(REPORT), **change}))
    assert "\n" not in str(refused.value)
    assert counts(qa) == before


def test_the_people_and_the_hours_per_day_are_checked_against_the_ticket(qa: Desk) -> None:
    number = walk(qa, S.RESOLVED)  # received and resolved on the same day: 24 h at most
    before = counts(qa)
    with pytest.raises(NotFound, match=r"^hours\[2\]\.staff: ghost is not on the staff list$"):
        quality.write_report(
            qa,
            number,
            ReportInput(
                **{
                    **_fields(REPORT),
                    "hours": (ReportHoursInput("wangjg", 2), ReportHoursInput("ghost", 1)),
                }
            ),
        )
    with pytest.raises(
        Refused, match=r"^hours\[1\]\.hours: 25 h for wangjg is more than 24 h a day"
    ):
        quality.write_report(
            qa,
            number,
            ReportInput(**{**_fields(REPORT), "hours": (ReportHoursInput("wangjg", 25),)}),
        )
    with pytest.raises(Refused, match=rf"^ticket {number}: the repair report is empty"):
        quality.write_report(qa, number, ReportInput())
    assert counts(qa) == before
    quality.write_report(
        qa, number, ReportInput(**{**_fields(REPORT), "hours": (ReportHoursInput("wangjg", 24),)})
    )


def test_submission_names_every_missing_field_and_writes_nothing(qa: Desk) -> None:
    number = walk(qa, S.RESOLVED)
    before = counts(qa)
    with pytest.raises(Refused, match=rf"^ticket {number} has no repair report: write it first"):
        qa.act(number, A.SUBMIT)
    assert counts(qa) == before
    quality.write_report(qa, number, ReportInput(diagnosis="Encoder cable", fixed=True))
    before = counts(qa)
    with pytest.raises(Refused) as refused:
        qa.act(number, A.SUBMIT)
    assert str(refused.value) == (
        f"ticket {number}'s repair report lacks work done, root cause, work hours,"
        " first-time fix (yes/no): complete it before submitting"
    )
    assert counts(qa) == before


def test_a_consulting_report_needs_no_root_cause_and_no_hours(qa: Desk) -> None:
    number = walk(qa, S.RESOLVED, category="consulting")
    record = quality.write_report(qa, number, BRIEF)
    assert record.missing == ()
    assert quality.missing_fields(BRIEF, site_visit=True) == ("root_cause", "hours")
    assert qa.act(number, A.SUBMIT).state is S.REPORT_SUBMITTED


# ------------------------------------------------------------------------------ the review


def test_approve_and_return_write_reviews_of_the_submitted_revision(qa: Desk) -> None:
    number = walk(qa, S.REPORT_SUBMITTED)
    qa.actor = "qazl"
    before = counts(qa)
    with pytest.raises(Refused, match=r"returning ticket .* for rework needs a reason: what must"):
        qa.act(number, A.RETURN, reason="  ")
    assert counts(qa) == before
    qa.act(number, A.RETURN, reason="no photo of the cable tie")
    qa.actor = "wangjg"
    qa.act(number, A.SUBMIT)
    qa.actor = "qazl"
    qa.act(number, A.APPROVE, reason="good")
    found = quality.ticket_quality(qa, number)
    assert [(r.revision, r.outcome, r.reason, r.reviewer) for r in found.reviews] == [
        (1, "returned", "no photo of the cable tie", "qazl"),
        (2, "approved", "good", "qazl"),
    ]
    reviews = [(e.action, e.new) for e in qa.detail(number).events if e.field == "review"]
    assert reviews == [("return", "returned"), ("approve", "approved")]


def test_a_dispatcher_cannot_approve(qa: Desk) -> None:
    number = walk(qa, S.REPORT_SUBMITTED)
    qa.actor = "chenx"
    before = counts(qa)
    with pytest.raises(Forbidden, match="Approve report needs the QA role: chenx is Dispatcher"):
        qa.act(number, A.APPROVE)
    assert counts(qa) == before


def test_a_review_of_a_ticket_without_a_submitted_report_is_refused(qa: Desk) -> None:
    """A ticket submitted before reports existed (schema 2 data, synthetic history)."""
    number = walk(qa, S.REPORT_SUBMITTED)
    RepairReport.delete().execute()
    qa.actor = "qazl"
    before = counts(qa)
    for action, reason in ((A.APPROVE, None), (A.RETURN, "why")):
        with pytest.raises(Refused) as refused:
            qa.act(number, action, reason=reason)
        assert str(refused.value) == f"ticket {number} has no submitted repair report to review"
    assert counts(qa) == before


# ------------------------------------------------------------------------------ the survey


@pytest.mark.parametrize("score", [0, 6, -1, 2.5, True, "5"])
def test_a_score_out_of_range_is_one_line_and_writes_nothing(qa: Desk, score: Any) -> None:
    number = walk(qa, S.REVIEWED)
    before = counts(qa)
    with pytest.raises(Refused, match=r"^a satisfaction score is a whole number from 1 to 5: "):
        quality.record_survey(qa, number, score)
    assert counts(qa) == before


def test_follow_up_needs_the_survey_and_a_low_score_opens_an_analysis(qa: Desk) -> None:
    number = walk(qa, S.REVIEWED)
    before = counts(qa)
    with pytest.raises(
        Refused, match=f"record it first with `windtui ticket survey {number} --score"
    ):
        qa.act(number, A.FOLLOWUP)
    assert counts(qa) == before
    qa.actor = "qazl"
    called = NOW - timedelta(minutes=30)
    survey = quality.record_survey(
        qa, number, 2, "Crew came late", caller="chenx", contacted_at=called, channel="phone"
    )
    assert (survey.score, survey.caller, survey.contacted_at) == (2, "chenx", called)
    assert survey.analysis is not None
    item = quality.improvement(qa, survey.analysis)
    assert (item.kind, item.owner, item.status, item.ticket, item.survey_score) == (
        "analysis",
        "qazl",
        "open",
        number,
        2,
    )
    assert item.due == date(2025, 3, 17)  # 3 March (farm time) + 14 days
    assert item.title == f"Low satisfaction score 2/5 on ticket {number}: analyse the cause"
    # A correction still low: no second analysis; the events say what changed.
    quality.record_survey(qa, number, 1, "Crew came late", caller="chenx", contacted_at=called)
    assert Improvement.select().count() == 1
    changes = [(e.field, e.old, e.new) for e in qa.detail(number).events if e.action == "survey"]
    assert ("score", "2", "1") in changes and ("analysis", None, str(item.id)) in changes
    qa.act(number, A.FOLLOWUP)
    assert qa.ticket(number).state is S.FOLLOWED_UP


SURVEY_ERRORS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"channel": "pigeon"}, Refused, "^unknown survey channel 'pigeon': choose one of phone,"),
    ({"caller": "ghost"}, NotFound, "^caller: ghost is not on the staff list$"),
    (
        {"contacted_at": NOW - timedelta(hours=9)},
        Refused,
        "^the survey call at .* is before ticket",
    ),
    ({"contacted_at": NOW + timedelta(hours=1)}, Refused, "is in the future"),
    ({"comments": "x" * 8001}, Refused, "^comments is at most 8000 characters"),
]


@pytest.mark.parametrize(("extra", "kind", "message"), SURVEY_ERRORS, ids=lambda v: _id(v))
def test_bad_survey_input_is_one_line_and_writes_nothing(
    qa: Desk, extra: dict[str, Any], kind: type[Exception], message: str
) -> None:
    number = walk(qa, S.REVIEWED)
    before = counts(qa)
    with pytest.raises(kind, match=message):
        quality.record_survey(qa, number, 4, **extra)
    assert counts(qa) == before


def test_a_survey_follows_the_approval_and_technicians_record_none(qa: Desk) -> None:
    submitted = walk(qa, S.REPORT_SUBMITTED)
    reviewed = walk(qa, S.REVIEWED)
    before = counts(qa)
    with pytest.raises(
        Refused, match=rf"^ticket {submitted} is report submitted: the satisfaction"
    ):
        quality.record_survey(qa, submitted, 5)
    qa.actor = "wangjg"  # crew on it, but the follow-up is the desk's
    with pytest.raises(Forbidden, match="Recording the satisfaction follow-up needs the"):
        quality.record_survey(qa, reviewed, 5)
    assert counts(qa) == before


def test_whole_flow_closes_with_every_record(qa: Desk) -> None:
    number = walk(qa, S.FOLLOWED_UP)
    qa.act(number, A.CLOSE)
    found = quality.ticket_quality(qa, number)
    assert found.report is not None and found.report.revision == 1
    assert [r.outcome for r in found.reviews] == ["approved"]
    assert found.survey is not None and found.survey.score == 5 and found.survey.analysis is None
    assert found.improvements == ()


# ------------------------------------------------------------------------------ improvements


def _later(desk: Desk, days: int) -> Desk:
    """The same database, ``days`` later."""
    return Desk.open(desk.url, now=NOW + timedelta(days=days), actor="tester")


def test_improvement_actions_move_from_open_to_done(qa: Desk) -> None:
    number = walk(qa, S.REVIEWED)
    qa.actor = "qazl"
    analysis = quality.record_survey(qa, number, 1, "no call back").analysis
    assert analysis is not None
    action = quality.add_improvement(
        qa,
        ImprovementInput(
            title="Pitch cable routing in the URC training",
            owner="supm",
            due=date(2025, 3, 31),
            category="training",
            parent=analysis,
        ),
    )
    assert (action.kind, action.parent, action.ticket, action.status) == (
        "action",
        analysis,
        number,  # the parent's ticket
        "open",
    )
    moved = quality.update_improvement(qa, action.id, status="in_progress", note="trainer booked")
    assert moved.status == "in_progress" and moved.notes.endswith("qazl: trainer booked")
    done = quality.update_improvement(qa, action.id, status="done")
    assert done.closed_at == NOW
    before = counts(qa)
    with pytest.raises(Refused, match=rf"^improvement {action.id} is done: it only takes notes"):
        quality.update_improvement(qa, action.id, status="open")
    assert counts(qa) == before
    assert quality.update_improvement(qa, action.id, note="effective").status == "done"
    events = Event.select().where(Event.action == "improvement").count()
    assert events >= 10
    assert [i.id for i in quality.improvements(qa, status="done")] == [action.id]
    assert [i.id for i in quality.improvements(qa, owner="qazl")] == [analysis]
    assert [i.id for i in quality.improvements(qa, ticket=number)] == [analysis, action.id]


IMPROVEMENT_ERRORS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"kind": "wish"}, Refused, "^unknown improvement kind 'wish'"),
    ({"category": "luck"}, Refused, "^unknown improvement category 'luck': choose one of training"),
    ({"title": " "}, Refused, "^an improvement needs a title$"),
    ({"owner": "ghost"}, NotFound, "^owner: ghost is not on the staff list$"),
    ({"due": date(2025, 3, 2)}, Refused, r"^the due date 2025-03-02 is in the past \(today is"),
    ({"due": "2025-04-01"}, Refused, r"^due must be a date \(YYYY-MM-DD\)$"),
    ({"parent": 999}, NotFound, "^improvement 999 not found$"),
    ({"ticket": 999}, NotFound, "^ticket 999 not found$"),
    ({"kind": "analysis", "parent": 1}, Refused, "^an analysis item has no parent"),
]


@pytest.mark.parametrize(("change", "kind", "message"), IMPROVEMENT_ERRORS, ids=lambda v: _id(v))
def test_bad_improvement_input_is_one_line_and_writes_nothing(
    qa: Desk, change: dict[str, Any], kind: type[Exception], message: str
) -> None:
    qa.actor = "qazl"
    base = {"title": "Faster parts", "owner": "supm", "due": date(2025, 4, 1)}
    before = counts(qa)
    with pytest.raises(kind, match=message):
        quality.add_improvement(qa, ImprovementInput(**{**base, **change}))
    assert counts(qa) == before


def test_an_action_cannot_be_a_parent_and_roles_are_checked(qa: Desk) -> None:
    qa.actor = "qazl"
    item = ImprovementInput("Spare-parts min stock", "supm", date(2025, 4, 1))
    first = quality.add_improvement(qa, item)
    before = counts(qa)
    with pytest.raises(Refused, match=rf"^improvement {first.id} is an action, not an analysis"):
        quality.add_improvement(
            qa, ImprovementInput("x", "supm", date(2025, 4, 1), parent=first.id)
        )
    with pytest.raises(Refused, match=rf"^improvement {first.id} already has these values"):
        quality.update_improvement(qa, first.id, status="open", owner="supm")
    with pytest.raises(Refused, match=r"^give a new status, owner, due date or note$"):
        quality.update_improvement(qa, first.id, note="  ")
    qa.actor = "chenx"
    with pytest.raises(Forbidden, match="Managing improvement actions needs the QA or Supervisor"):
        quality.update_improvement(qa, first.id, status="done")
    qa.actor = "wangjg"
    with pytest.raises(Forbidden):
        quality.improvements(qa)
    assert counts(qa) == before


def test_overdue_lists_open_items_past_their_due_date(qa: Desk) -> None:
    qa.actor = "qazl"
    due = date(2025, 3, 5)
    late = quality.add_improvement(qa, ImprovementInput("Late", "supm", due))
    done = quality.add_improvement(qa, ImprovementInput("Done in time", "supm", due))
    quality.update_improvement(qa, done.id, status="done")
    later = _later(qa, 5)
    try:
        overdue = quality.improvements(later, overdue=True)
        assert [(i.id, i.overdue) for i in overdue] == [(late.id, True)]
        assert not quality.improvement(later, done.id).overdue
    finally:
        later.close()
    assert quality.improvements(qa, overdue=True) == []


# ------------------------------------------------------------------------------ suggestions


def test_suggestions_register_and_adoption_rate(qa: Desk) -> None:
    number = walk(qa, S.REVIEWED)
    qa.actor = "chenx"
    first = quality.add_suggestion(
        qa, SuggestionInput("survey", "Text us the crew's ETA", date(2025, 3, 1), ticket=number)
    )
    assert (first.farm, first.customer, first.ticket, first.status) == (
        "DBC",
        "HNR",
        number,
        "new",
    )
    second = quality.add_suggestion(
        qa, SuggestionInput("email", "Quarterly review", date(2025, 1, 10))
    )
    third = quality.add_suggestion(qa, SuggestionInput("meeting", "Spare blades", farm="DHQ"))
    quality.add_suggestion(qa, SuggestionInput("phone", "Still thinking", date(2025, 2, 1)))
    quality.set_suggestion_status(qa, first.id, "evaluating")
    adopted = quality.set_suggestion_status(qa, first.id, "adopted", on=date(2025, 3, 2))
    assert (adopted.decided_on, adopted.decided_by) == (date(2025, 3, 2), "chenx")
    quality.set_suggestion_status(qa, second.id, "adopted")
    quality.set_suggestion_status(qa, third.id, "rejected")
    rate = quality.adoption_rate(qa)
    assert (rate.received, rate.adopted, rate.rejected, rate.pending) == (4, 2, 1, 1)
    assert rate.rate == pytest.approx(2 / 3)
    march = quality.adoption_rate(qa, date(2025, 3, 1), date(2025, 3, 31))
    assert (march.adopted, march.rejected, march.rate) == (1, 1, 0.5)
    assert quality.adoption_rate(qa, date(2024, 1, 1), date(2024, 12, 31)).rate is None
    assert [s.id for s in quality.suggestions(qa, status="adopted")] == [first.id, second.id]
    assert [s.id for s in quality.suggestions(qa, start=date(2025, 3, 1))] == [third.id, first.id]
    assert {s.source for s in quality.suggestions(qa, source="email")} == {"email"}


SUGGESTION_ERRORS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"source": "rumour"}, Refused, "^unknown suggestion source 'rumour': choose one of survey,"),
    ({"text": "  "}, Refused, "^a suggestion needs its text$"),
    ({"received_on": date(2025, 3, 4)}, Refused, "^the received date 2025-03-04 is in the future"),
    ({"farm": "XXX"}, NotFound, "^farm XXX not found$"),
    ({"customer": "ZZZ"}, NotFound, "^customer ZZZ not found$"),
    ({"ticket": 4242}, NotFound, "^ticket 4242 not found$"),
]


@pytest.mark.parametrize(("change", "kind", "message"), SUGGESTION_ERRORS, ids=lambda v: _id(v))
def test_bad_suggestion_input_is_one_line_and_writes_nothing(
    qa: Desk, change: dict[str, Any], kind: type[Exception], message: str
) -> None:
    before = counts(qa)
    with pytest.raises(kind, match=message):
        quality.add_suggestion(qa, SuggestionInput(**{"source": "phone", "text": "x", **change}))
    assert counts(qa) == before


def test_suggestion_decisions_are_final_and_periods_run_forwards(qa: Desk) -> None:
    number = walk(qa, S.RESOLVED)
    item = quality.add_suggestion(qa, SuggestionInput("phone", "More spares", date(2025, 3, 1)))
    quality.set_suggestion_status(qa, item.id, "rejected")
    before = counts(qa)
    with pytest.raises(Refused, match=rf"^suggestion {item.id} is rejected: a decision is final$"):
        quality.set_suggestion_status(qa, item.id, "adopted")
    with pytest.raises(Refused, match=rf"^suggestion {item.id} is already rejected$"):
        quality.set_suggestion_status(qa, item.id, "rejected")
    with pytest.raises(Refused, match=r"^the period starts 2025-04-01, after its end 2025-03-31$"):
        quality.adoption_rate(qa, date(2025, 4, 1), date(2025, 3, 31))
    with pytest.raises(Refused, match=rf"^ticket {number} is not at farm DHQ$"):
        quality.add_suggestion(qa, SuggestionInput("phone", "x", farm="DHQ", ticket=number))
    with pytest.raises(NotFound, match=r"^suggestion 77 not found$"):
        quality.set_suggestion_status(qa, 77, "adopted")
    second = quality.add_suggestion(qa, SuggestionInput("phone", "x", date(2025, 3, 2)))
    with pytest.raises(Refused, match=r"^the decision date 2025-03-01 is before the suggestion"):
        quality.set_suggestion_status(qa, second.id, "adopted", on=date(2025, 3, 1))
    assert counts(qa)[-1] == [*before[-1], ("new", None)]


# ------------------------------------------------------------------------------ properties


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
_keys = st.sampled_from([*quality.REPORT_FIELDS, "part_number", "quantity", "staff", "hours", "x"])
_tables = st.dictionaries(_keys, _json | st.lists(st.dictionaries(_keys, _json), max_size=2))


@settings(max_examples=300, deadline=None)
@given(data=_json | _tables)
def test_any_parsed_file_is_a_report_or_one_line_naming_the_problem(data: Any) -> None:
    try:
        report = quality.check_report(quality.parse_report(data, "report.toml"))
    except WindtuiError as exc:
        message = str(exc)
        assert message and "\n" not in message
        assert not isinstance(exc, NotFound)
    else:
        assert quality.check_report(report) == report  # clean input stays as it is
        for part in report.parts:
            assert part.quantity > 0 and part.part_number
        for line in report.hours:
            assert line.hours > 0


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
_amount = st.floats(min_value=0.01, max_value=24, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    diagnosis=_text,
    parts=st.lists(st.tuples(_text.filter(str.strip), _amount), max_size=3),
    hours=st.lists(st.sampled_from(["wangjg", "lihua", "zhaom"]), unique=True, max_size=3),
    fixed=st.sampled_from([None, True, False]),
    first=st.sampled_from([None, True, False]),
    bad_quantity=st.floats(max_value=0, allow_nan=False) | st.just(float("nan")),
)
def test_valid_reports_pass_and_a_bad_quantity_is_always_named(
    diagnosis: str,
    parts: list[tuple[str, float]],
    hours: list[str],
    fixed: bool | None,
    first: bool | None,
    bad_quantity: float,
) -> None:
    report = ReportInput(
        diagnosis=diagnosis,
        parts=tuple(ReportPartInput(p, "", q) for p, q in parts),
        hours=tuple(ReportHoursInput(h, 1.5) for h in hours),
        fixed=fixed,
        first_time_fix=first if fixed else (None if first else first),
    )
    clean = quality.check_report(report)
    assert clean.diagnosis == diagnosis.strip()
    assert len(clean.parts) == len(parts) and len(clean.hours) == len(hours)
    site = quality.missing_fields(clean)
    assert ("hours" in site) == (not hours) and ("fixed" in site) == (fixed is None)
    broken = ReportInput(parts=(*report.parts, ReportPartInput("P-9", "", bad_quantity)))
    with pytest.raises(Refused, match=rf"^parts\[{len(parts) + 1}\]\.quantity must be"):
        quality.check_report(broken)


def test_parse_report_names_unknown_keys_and_wrong_types() -> None:
    with pytest.raises(Refused, match=r"^report.toml: unknown key 'diagnoss' \(known: diagnosis,"):
        quality.parse_report({"diagnoss": "x"}, "report.toml")
    with pytest.raises(Refused, match=r"^r.json: unknown key 'parts\[1\]\.qty'"):
        quality.parse_report({"parts": [{"part_number": "P", "qty": 2}]}, "r.json")
    with pytest.raises(Refused, match=r"^r.json: hours\[1\]\.hours is missing$"):
        quality.parse_report({"hours": [{"staff": "wangjg"}]}, "r.json")
    with pytest.raises(Refused, match=r"^r.json: fixed must be true or false$"):
        quality.parse_report({"fixed": "yes"}, "r.json")
    with pytest.raises(Refused, match=r"^r.json: a repair report is a table of fields"):
        quality.parse_report(["diagnosis"], "r.json")
    parsed = quality.parse_report(
        {"diagnosis": "d", "parts": [{"part_number": "P-1"}], "attachments": ["a.jpg"]}, "r"
    )
    assert parsed.parts == (ReportPartInput("P-1", "", 1),) and parsed.attachments == ("a.jpg",)


def test_a_stored_report_round_trips_through_report_input(qa: Desk) -> None:
    number = walk(qa, S.RESOLVED)
    record = quality.write_report(qa, number, REPORT)
    again = quality.report_input(record)
    assert quality.check_report(again) == quality.check_report(REPORT)
    assert quality.label("first_time_fix") == "first-time fix (yes/no)"


def _fields(report: ReportInput) -> dict[str, Any]:
    return {name: getattr(report, name) for name in report.__slots__}


def _id(value: object) -> str:
    """Test ids: the changed field names (messages and exception types say nothing new)."""
    return "-".join(value) if isinstance(value, dict) else "_"


def test_qa_never_reviews_their_own_work(desk: Desk) -> None:
    """zhaom is a technician and in QA: the report of a job she worked is someone else's to
    review (the separation of duties the policy asks for)."""
    from quality_steps import act as step

    number = desk.create_ticket(farm="DBC", category="fault", priority="P2", title="Yaw").number
    for action in (Action.ACK, Action.FEEDBACK):
        desk.act(number, action)
    desk.act(number, Action.DISPATCH, technician="zhaom")
    desk.actor = "zhaom"  # she works the job and writes its report
    for action in (Action.DEPART, Action.ARRIVE, Action.RESOLVE, Action.SUBMIT):
        step(desk, number, action)
    with pytest.raises(Forbidden, match="zhaom worked on ticket 1001: its repair report must be"):
        desk.act(number, Action.APPROVE)
    desk.actor = "tester"
    assert desk.ticket(number).state is TicketState.REPORT_SUBMITTED
    assert desk.act(number, Action.APPROVE).state is TicketState.REVIEWED
