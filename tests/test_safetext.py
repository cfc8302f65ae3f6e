"""``windtui.safetext``: user text never reaches a terminal with controls, bidi or separators."""

from __future__ import annotations

import itertools
import json

from hypothesis import example, given
from hypothesis import strategies as st

from windtui.safetext import DANGEROUS, REPLACEMENT, json_escape, visible

ATTACK = "\x1b]52;c;ZXZpbA==\x07[@click=app.quit]boom[/] \u202eevil"

# Every character class, with the dangerous ones (and lone surrogates) well represented.
dangerous_chars = st.sampled_from(sorted(DANGEROUS)).map(chr)
any_text = st.text(
    st.one_of(
        st.characters(codec=None, exclude_categories=()),  # includes surrogates
        dangerous_chars,
    )
)


def _no_surrogate_pair(text: str) -> bool:
    """A high surrogate escaped right before a low one decodes as their pair's character (as
    with ``ensure_ascii=True``); a store never holds either (they are not valid UTF-8)."""
    return not any(
        "\ud800" <= a <= "\udbff" and "\udc00" <= b <= "\udfff" for a, b in itertools.pairwise(text)
    )


safe_text = st.text(
    st.characters(exclude_categories=("Cs",)).filter(lambda c: ord(c) not in DANGEROUS)
)


@given(any_text, st.booleans())
@example(ATTACK, False)
@example("a\r\nb\u2029c\x9b[31m", True)
def test_output_holds_no_dangerous_character(text: str, multiline: bool) -> None:
    shown = visible(text, multiline=multiline)
    allowed = {ord("\n")} if multiline else set()
    assert not {ord(c) for c in shown} & (DANGEROUS - allowed)


@given(safe_text, st.booleans())
@example("风机 A07 变桨故障 — Ünïcödé ✓ 👷\u200d♀️", False)
def test_text_without_controls_is_unchanged(text: str, multiline: bool) -> None:
    assert visible(text, multiline=multiline) == text


@given(any_text)
def test_one_character_in_one_character_out_on_one_line(text: str) -> None:
    # Nothing is dropped: a reader sees that something was there (and widths stay countable).
    assert len(visible(text)) == len(text)


def test_the_stand_ins() -> None:
    assert visible(ATTACK) == "␛]52;c;ZXZpbA==␇[@click=app.quit]boom[/] \ufffdevil"
    assert visible("a\tb\x7fc\x00") == "a b␡c␀"
    assert visible("\x9b31m\u2066x\u2069") == f"{REPLACEMENT}31m{REPLACEMENT}x{REPLACEMENT}"
    assert visible("one\u2028two\u2029three") == "one two three"
    assert visible("line\r\nnext\n") == "line␍␊next␊"
    assert visible("line\r\nnext\rx", multiline=True) == "line\nnext␍x"
    assert visible(None) == "" and visible("") == ""


json_text = any_text.filter(_no_surrogate_pair)


@given(st.recursive(json_text | st.integers() | st.none(), st.lists, max_leaves=8), json_text)
@example(ATTACK, "key\u202e")
def test_json_escape_round_trips_and_is_terminal_safe(value: object, key: str) -> None:
    data = {key: value, "list": [value]}
    for indent in (None, 2):
        out = json_escape(json.dumps(data, ensure_ascii=False, indent=indent))
        assert json.loads(out) == data
        # Only the layout's newlines are raw; everything dangerous inside strings is escaped.
        assert not {ord(c) for c in out} & (DANGEROUS - {ord("\n")})
