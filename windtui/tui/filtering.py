"""The queue's filter grammar: pure functions, no Textual.

``/`` on the queue takes a line such as ``p:1,2 farm:DBC state:onsite cat:fault owner:wangjg
hold:weather gearbox``. Whitespace separates terms; every term must match (AND). A term is either
``field:value`` (values separated by commas are OR-ed) or free text, matched case-insensitively
against the number, title, farm, turbine, fault code and owner. A leading ``-`` negates a term.
Quotes group words: ``"pitch bearing"``.

Fields (aliases in brackets): ``p`` [priority], ``farm`` [f], ``turbine`` [t, wtg], ``state`` [s],
``cat`` [category, c], ``owner`` [o] (``owner:none`` = unassigned), ``hold`` [h] (``hold:any``,
``hold:none`` or a reason prefix), ``no`` [number, #].
Values match by prefix after dropping ``_``/``-``/spaces, so ``state:onsite`` is ``on_site`` and
``cat:maint`` is ``maintenance``. Given the farms the console knows, a ``farm:`` value that is the
prefix of none of them is an error ("Unknown farm XXX"), not a silent empty list.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Collection
from dataclasses import dataclass

from windtui.domain.model import Category, HoldReason, Priority, TicketState
from windtui.errors import WindtuiError
from windtui.i18n import _
from windtui.services.records import TicketSnapshot

Predicate = Callable[[TicketSnapshot], bool]


class FilterError(WindtuiError):
    """A filter line that cannot be parsed (names the bad term)."""


def _norm(text: str) -> str:
    """Lower-case and drop separators, so ``On-Site``, ``on_site`` and ``onsite`` compare equal."""
    return text.lower().replace("_", "").replace("-", "").replace(" ", "")


def _enum_values(enum: type, value: str, term: str) -> set[str]:
    """Enum members whose value starts with ``value`` (normalised); error when none does."""
    wanted = _norm(value)
    found = {m.value for m in enum if _norm(m.value).startswith(wanted)}
    if not found:
        choices = ", ".join(m.value for m in enum)
        raise FilterError(
            _("Unknown value in filter term {term} (one of: {choices})").format(
                term=term, choices=choices
            )
        )
    return found


def _priority(values: list[str], term: str) -> Predicate:
    wanted: set[str] = set()
    for v in values:
        code = v.upper() if v.upper().startswith("P") else f"P{v}"
        if code not in Priority.__members__:
            raise FilterError(_("Unknown priority in filter term {term}").format(term=term))
        wanted.add(code)
    return lambda t: t.priority.value in wanted


def _prefix_field(
    get: Callable[[TicketSnapshot], str | None],
) -> Callable[[list[str], str], Predicate]:
    def build(values: list[str], term: str) -> Predicate:
        wanted = [_norm(v) for v in values]
        return lambda t: any(_norm(get(t) or "").startswith(w) for w in wanted)

    return build


def _enum_field(
    enum: type, get: Callable[[TicketSnapshot], str]
) -> Callable[[list[str], str], Predicate]:
    def build(values: list[str], term: str) -> Predicate:
        wanted: set[str] = set()
        for v in values:
            wanted |= _enum_values(enum, v, term)
        return lambda t: get(t) in wanted

    return build


def _owner(values: list[str], term: str) -> Predicate:
    wanted = [v.lower() for v in values]

    def match(t: TicketSnapshot) -> bool:
        for w in wanted:
            if w in ("none", "-") and not t.owner:
                return True
            if t.owner and (w in t.owner.lower() or w in (t.owner_name or "").lower()):
                return True
        return False

    return match


def _hold(values: list[str], term: str) -> Predicate:
    reasons: set[str] = set()
    any_hold = no_hold = False
    for v in values:
        low = v.lower()
        if low in ("any", "yes", "y", "*"):
            any_hold = True
        elif low in ("none", "no", "n"):
            no_hold = True
        else:
            reasons |= _enum_values(HoldReason, v, term)

    def match(t: TicketSnapshot) -> bool:
        if t.hold is None:
            return no_hold
        return any_hold or t.hold.value in reasons

    return match


def _number(values: list[str], term: str) -> Predicate:
    wanted = [v.lstrip("#") for v in values]
    return lambda t: any(str(t.number).startswith(w) for w in wanted)


_FIELDS: dict[str, Callable[[list[str], str], Predicate]] = {
    "p": _priority,
    "farm": _prefix_field(lambda t: t.farm),
    "turbine": _prefix_field(lambda t: t.turbine),
    "state": _enum_field(TicketState, lambda t: t.state.value),
    "cat": _enum_field(Category, lambda t: t.category.value),
    "owner": _owner,
    "hold": _hold,
    "no": _number,
}
_ALIASES = {
    "priority": "p", "f": "farm", "t": "turbine", "wtg": "turbine", "s": "state",
    "category": "cat", "c": "cat", "o": "owner", "h": "hold", "number": "no", "#": "no",
}  # fmt: skip


_SEARCH_TEXT: dict[int, tuple[TicketSnapshot, str]] = {}
"""``id(snapshot)`` -> (snapshot, search text); the snapshot is kept so its id is not reused."""
SEARCH_TEXT_LIMIT = 50_000
"""The cache is dropped when it grows past this (snapshots are replaced as tickets change)."""


def search_text(ticket: TicketSnapshot) -> str:
    """The lower-case text free-text terms search, computed once per snapshot.

    Number, title, farm, turbine, fault code and owner, each lower-cased and joined by NUL, which
    no typed term contains, so a term never matches across two fields.
    """
    entry = _SEARCH_TEXT.get(id(ticket))
    if entry is not None and entry[0] is ticket:
        return entry[1]
    if len(_SEARCH_TEXT) >= SEARCH_TEXT_LIMIT:
        _SEARCH_TEXT.clear()
    hay = (str(ticket.number), ticket.title, ticket.farm, ticket.turbine or "",
           ticket.fault_code or "", ticket.owner or "", ticket.owner_name or "")  # fmt: skip
    text = "\0".join(h.lower() for h in hay)
    _SEARCH_TEXT[id(ticket)] = (ticket, text)
    return text


def _free_text(word: str) -> Predicate:
    needle = word.lower()
    return lambda t: needle in search_text(t)


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """A parsed filter line; ``matches`` is the AND of every term."""

    text: str
    predicates: tuple[Predicate, ...] = ()

    @property
    def active(self) -> bool:
        """True when the filter restricts anything."""
        return bool(self.predicates)

    def matches(self, ticket: TicketSnapshot) -> bool:
        """Whether ``ticket`` passes every term."""
        return all(p(ticket) for p in self.predicates)


def _check_farms(values: list[str], farms: Collection[str]) -> None:
    """Raise :class:`FilterError` for the first value that is the prefix of no farm in ``farms``."""
    known = [_norm(farm) for farm in farms]
    for value in values:
        wanted = _norm(value)
        if not any(farm.startswith(wanted) for farm in known):
            raise FilterError(_("Unknown farm {farm}").format(farm=value))


def parse_filter(text: str, *, farms: Collection[str] | None = None) -> TicketFilter:
    """Parse a filter line into a :class:`TicketFilter`; raises :class:`FilterError`.

    ``farms`` are the farm codes the console knows: when given (and not empty), a ``farm:``
    value that is the prefix of none of them is an error. Without them any value is accepted.
    """
    try:
        words = shlex.split(text)
    except ValueError as error:  # an unbalanced quote
        raise FilterError(_("Cannot read the filter: {error}").format(error=error)) from None
    predicates: list[Predicate] = []
    for word in words:
        negate = word.startswith("-") and len(word) > 1
        body = word[1:] if negate else word
        name, sep, value = body.partition(":")
        if sep and name:
            key = _ALIASES.get(name.lower(), name.lower())
            if key not in _FIELDS:
                raise FilterError(
                    _("Unknown filter field {field} (fields: {fields})").format(
                        field=name, fields=", ".join(_FIELDS)
                    )
                )
            values = [v for v in value.split(",") if v]
            if not values:
                raise FilterError(_("Filter term {term} has no value").format(term=word))
            if key == "farm" and farms:
                _check_farms(values, farms)
            pred = _FIELDS[key](values, word)
        else:
            pred = _free_text(body)
        predicates.append((lambda p: lambda t: not p(t))(pred) if negate else pred)
    return TicketFilter(text=text, predicates=tuple(predicates))
