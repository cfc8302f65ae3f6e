"""User text made safe to show on a terminal (pure Python: the CLI and the console both use it).

Ticket titles, descriptions, hold evidence, notes, names, reasons and contacts are stored exactly
as typed, but may hold bytes a terminal acts on: escape sequences (``ESC [ … m``, an OSC 52
clipboard write ``ESC ] 52 ; … BEL``, ``ESC ] 8`` hyperlinks), C1 controls (U+009B is a one-byte
CSI), other C0 controls, bidi overrides that reorder what a reader sees, and line separators.
:func:`visible` turns every such character into a visible stand-in, so the text can be printed
or rendered but never interpreted:

* C0 controls U+0000–U+001F become their Control Pictures (U+2400 + code: ESC is ``␛``, BEL
  ``␇``), DEL becomes ``␡``; a tab becomes one space; a newline is kept only when ``multiline``.
* C1 controls U+0080–U+009F, bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E,
  U+2066–U+2069) and lone surrogates (undecodable bytes from ``argv``) become U+FFFD ``�``:
  C1 controls have no control pictures, and a marker shows that something was there.
* U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR become a space.

Everything else (CJK, accents, emoji, joiners) is untouched. Markup (``[bold]``, ``[@click=…]``)
is not this module's business: the console renders user text as plain text objects.

:func:`json_escape` is the JSON counterpart: ``json.dumps(..., ensure_ascii=False)`` escapes C0
controls but leaves DEL, C1, bidi, separators and lone surrogates raw; they become ``\\uXXXX``
escapes, so ``json.loads`` gives back exactly the stored string.
"""

from __future__ import annotations

REPLACEMENT = "\ufffd"
"""What C1 controls, bidi controls and lone surrogates are shown as."""

C0 = range(0x00, 0x20)
DEL = 0x7F
C1 = range(0x80, 0xA0)
BIDI = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
SEPARATORS = frozenset({0x2028, 0x2029})
SURROGATES = range(0xD800, 0xE000)

DANGEROUS: frozenset[int] = frozenset({*C0, DEL, *C1, *BIDI, *SEPARATORS, *SURROGATES})
"""Code points that never reach a terminal raw (``\\n`` only when ``multiline``)."""

_PICTURES: dict[int, str] = {
    **{code: chr(0x2400 + code) for code in C0},
    ord("\t"): " ",
    DEL: "\u2421",
    **{code: REPLACEMENT for code in (*C1, *BIDI, *SURROGATES)},
    **{code: " " for code in SEPARATORS},
}
_SINGLE_LINE = str.maketrans(_PICTURES)
_MULTILINE = str.maketrans({**_PICTURES, ord("\n"): "\n"})
_JSON = str.maketrans({code: f"\\u{code:04x}" for code in DANGEROUS if code not in C0})


def visible(text: str | None, *, multiline: bool = False) -> str:
    """``text`` with every terminal control, bidi control and separator made visible.

    ``None`` gives ``""``. With ``multiline`` a newline (or CRLF) stays a line break; otherwise
    it shows as ``␊``. Text without such characters is returned unchanged (the same object).
    """
    if not text:
        return ""
    if text.isprintable():  # fast path: every dangerous character is non-printable
        return text
    if multiline:
        return text.replace("\r\n", "\n").translate(_MULTILINE)
    return text.translate(_SINGLE_LINE)


def json_escape(serialized: str) -> str:
    """Escape what ``json.dumps(ensure_ascii=False)`` leaves raw but a terminal would act on.

    ``serialized`` must be the output of ``json.dumps``: the characters escaped here can only
    occur inside its strings, so the result is valid JSON that decodes to the same data
    (except a lone high surrogate right before a lone low one, which decodes as their pair, as
    with ``ensure_ascii=True``; no database holds either).
    """
    if serialized.isascii() and "\x7f" not in serialized:
        return serialized
    return serialized.translate(_JSON)


__all__ = ["DANGEROUS", "REPLACEMENT", "json_escape", "visible"]
