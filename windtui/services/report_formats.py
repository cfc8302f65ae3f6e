"""Writers for report documents: Markdown, self-contained HTML, CSV and XLSX.

A :class:`Document` is a title, a few lines and sections of tables whose cells are plain values:
text (``str``, often typed by people: ticket titles, survey comments, hold evidence), numbers,
None, :class:`Num` (a raw number for CSV/XLSX with the text Markdown/HTML show) or :class:`Mark`
(a status word that HTML colours). The writers make every piece of text inert in its format:

* **Markdown**: terminal controls made visible (:func:`windtui.safetext.visible`), ``& < >``
  as entities (no raw HTML survives), Markdown's own punctuation (``\\ ` * _ [ ] | ~``)
  backslash-escaped, line breaks as ``<br>``.
* **HTML**: one file with its styles inline and no script; every text ``html.escape``-d; a
  Content-Security-Policy that forbids scripts, images and connections even if something slipped
  through.
* **CSV / XLSX**: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return
  or a line feed gets a leading ``'`` (OWASP's advice against CSV/formula injection), so a
  spreadsheet never runs it; numbers are written as numbers. XLSX comes from XlsxWriter with one
  sheet per section, every text through ``write_string`` and the workbook's automatic
  string-to-formula/URL/number conversions turned off.

:func:`write` writes to a temporary file in the target's folder and renames it over the target,
so a failure never leaves a partial file (the file is created owner-only, mode 600: reports name
customers and people).
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from windtui.errors import WindtuiError
from windtui.i18n import _
from windtui.safetext import visible

FORMATS = ("md", "html", "csv", "xlsx")


class ReportWriteError(WindtuiError):
    """The report file cannot be written (folder missing, no permission, a directory, …)."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class Num:
    """A number: ``value`` goes into CSV/XLSX as a number (None: empty), ``text`` is what
    Markdown and HTML show; ``excel`` an optional XLSX number format such as ``0.0%``."""

    value: float | int | None
    text: str
    excel: str = ""


@dataclass(frozen=True, slots=True)
class Mark:
    """A status word (``status``: met, at_risk, missed, no_data, info, overdue, …) that HTML
    colours; every other format shows ``text``."""

    text: str
    status: str


Cell = str | int | float | Num | Mark | None


@dataclass(frozen=True, slots=True)
class Table:
    """One table: ``key`` names it for machines (CSV section rows), ``title`` for people."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    empty: str = ""  # what to say when there are no rows


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    lines: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    lines: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    lang: str = "en"
    meta: dict[str, str] = field(default_factory=dict)


# -- cells ---------------------------------------------------------------------------------------

#: A spreadsheet treats a cell beginning with one of these as a formula (or a DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet could read it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _plain(cell: Cell) -> str:
    """What Markdown and HTML show for a cell."""
    if cell is None:
        return "–"
    if isinstance(cell, Num):
        return cell.text
    if isinstance(cell, Mark):
        return cell.text
    if isinstance(cell, bool):
        return _("yes") if cell else _("no")
    if isinstance(cell, float):
        return f"{cell:g}"
    return str(cell)


def _raw(cell: Cell) -> str | int | float | None:
    """What CSV and XLSX store for a cell: numbers as numbers, text neutralised."""
    if cell is None:
        return None
    if isinstance(cell, Num):
        return cell.value
    if isinstance(cell, Mark):
        return neutralise(cell.text)
    if isinstance(cell, bool):
        return neutralise(_("yes") if cell else _("no"))
    if isinstance(cell, int | float):
        return cell
    return neutralise(str(cell))


# -- Markdown ------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md_text(text: str) -> str:
    """``text`` safe inside a Markdown paragraph or table cell."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    shown = (_MD_SPECIAL.sub(r"\\\1", html.escape(visible(line), quote=False)) for line in lines)
    return "<br>".join(shown)


def render_md(doc: Document) -> str:
    out = [f"# {md_text(doc.title)}", ""]
    for line in doc.lines:
        out += [md_text(line), ""]
    for section in doc.sections:
        out += [f"## {md_text(section.title)}", ""]
        for line in section.lines:
            out += [md_text(line), ""]
        for table in section.tables:
            out += [f"### {md_text(table.title)}", ""]
            if not table.rows:
                out += [md_text(table.empty or _("none")), ""]
                continue
            out.append("| " + " | ".join(md_text(h) for h in table.headers) + " |")
            out.append("|" + "|".join("---" for _h in table.headers) + "|")
            for row in table.rows:
                out.append("| " + " | ".join(md_text(_plain(c)) for c in row) + " |")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# -- HTML ----------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;
color:#1a1a1a;line-height:1.4}
h1{font-size:1.6em}h2{font-size:1.3em;border-bottom:1px solid #ccc;margin-top:2em}
h3{font-size:1.05em;margin-top:1.4em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}
th{background:#f2f2f2}td.num{text-align:right;white-space:nowrap}
.met{color:#176f2c}.at_risk{color:#8a6100}.missed,.overdue,.breached{color:#b00020;font-weight:bold}
.no_data{color:#777}
@media print{body{margin:0}h2{page-break-before:auto}}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def html_text(text: str) -> str:
    """``text`` escaped for HTML (quotes too), line breaks as ``<br>``."""
    escaped = html.escape(text.replace("\r\n", "\n").replace("\r", "\n"), quote=True)
    return escaped.replace("\n", "<br>")


def _html_cell(cell: Cell) -> str:
    if isinstance(cell, Mark):
        status = re.sub(r"[^a-z_]", "", cell.status)
        return f'<td class="{status}">{html_text(cell.text)}</td>'
    if isinstance(cell, Num) or (isinstance(cell, int | float) and not isinstance(cell, bool)):
        return f'<td class="num">{html_text(_plain(cell))}</td>'
    return f"<td>{html_text(_plain(cell))}</td>"


def render_html(doc: Document) -> str:
    lang = "zh-CN" if doc.lang == "zh_CN" else "en"
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{html_text(doc.title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{html_text(doc.title)}</h1>",
    ]
    out += [f"<p>{html_text(line)}</p>" for line in doc.lines]
    for section in doc.sections:
        out.append(f'<section id="{html.escape(section.key, quote=True)}">')
        out.append(f"<h2>{html_text(section.title)}</h2>")
        out += [f"<p>{html_text(line)}</p>" for line in section.lines]
        for table in section.tables:
            out.append(f"<h3>{html_text(table.title)}</h3>")
            if not table.rows:
                out.append(f"<p>{html_text(table.empty or _('none'))}</p>")
                continue
            out.append("<table>")
            out.append(
                "<thead><tr>"
                + "".join(f"<th>{html_text(h)}</th>" for h in table.headers)
                + "</tr></thead>"
            )
            out.append("<tbody>")
            for row in table.rows:
                out.append("<tr>" + "".join(_html_cell(c) for c in row) + "</tr>")
            out.append("</tbody></table>")
        out.append("</section>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


# -- CSV -----------------------------------------------------------------------------------------


def csv_rows(doc: Document) -> list[list[Any]]:
    """The CSV as rows: per table a row ``[section.table key, title]``, its header row, its
    rows, then an empty row. The document's title and lines come first."""
    rows: list[list[Any]] = [[neutralise(doc.title)]]
    rows += [[neutralise(line)] for line in doc.lines]
    rows.append([])
    for section in doc.sections:
        for line in section.lines:
            rows.append([f"[{section.key}]", neutralise(line)])
        for table in section.tables:
            rows.append([f"[{section.key}.{table.key}]", neutralise(table.title)])
            rows.append([neutralise(h) for h in table.headers])
            for row in table.rows:
                rows.append(["" if (v := _raw(c)) is None else v for c in row])
            rows.append([])
    return rows


def render_csv(doc: Document) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(csv_rows(doc))
    return buffer.getvalue()


# -- XLSX ----------------------------------------------------------------------------------------

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(title: str, used: set[str]) -> str:
    """A valid, unique sheet name (at most 31 characters, none of ``[]:*?/\\``, no leading or
    trailing apostrophe)."""
    base = _SHEET_BAD.sub(" ", title).strip().strip("'")[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


def write_xlsx(doc: Document, path: Path) -> None:
    """The workbook: a summary sheet (title and lines), then one sheet per section."""
    import xlsxwriter

    options = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "nan_inf_to_errors": True,
    }
    with xlsxwriter.Workbook(str(path), options) as book:
        book.set_properties({"title": doc.title, "comments": "windtui"})
        bold = book.add_format({"bold": True})
        heading = book.add_format({"bold": True, "font_size": 13})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        formats: dict[str, Any] = {}
        used: set[str] = set()

        def text(sheet: Any, row: int, col: int, value: str, fmt: Any = None) -> None:
            sheet.write_string(row, col, neutralise(value), fmt)

        summary = book.add_worksheet(_sheet_name(_("Summary"), used))
        text(summary, 0, 0, doc.title, heading)
        for i, line in enumerate(doc.lines, start=2):
            text(summary, i, 0, line)
        summary.set_column(0, 0, 100)
        for section in doc.sections:
            sheet = book.add_worksheet(_sheet_name(section.title, used))
            widths: dict[int, int] = {}
            text(sheet, 0, 0, section.title, heading)
            row = 2
            for line in section.lines:
                text(sheet, row, 0, line)
                row += 1
            if section.lines:
                row += 1
            for table in section.tables:
                text(sheet, row, 0, table.title, bold)
                row += 1
                if not table.rows:
                    text(sheet, row, 0, table.empty or _("none"))
                    row += 2
                    continue
                for col, head in enumerate(table.headers):
                    text(sheet, row, col, head, bold)
                    widths[col] = max(widths.get(col, 8), min(len(head) + 2, 60))
                row += 1
                for cells in table.rows:
                    for col, cell in enumerate(cells):
                        value = _raw(cell)
                        if value is None:
                            sheet.write_blank(row, col, None)
                            continue
                        if isinstance(value, str):
                            sheet.write_string(row, col, value, wrap if "\n" in value else None)
                            width = max((len(p) for p in value.split("\n")), default=0)
                        else:
                            excel = cell.excel if isinstance(cell, Num) else ""
                            if excel and excel not in formats:
                                formats[excel] = book.add_format({"num_format": excel})
                            sheet.write_number(row, col, value, formats.get(excel))
                            width = len(_plain(cell))
                        widths[col] = max(widths.get(col, 8), min(width + 2, 60))
                    row += 1
                row += 1
            for col, width in widths.items():
                sheet.set_column(col, col, width)


# -- writing a file ------------------------------------------------------------------------------


def _text_writer(render: Callable[[Document], str], encoding: str) -> Callable[..., None]:
    def write_text(doc: Document, path: Path) -> None:
        path.write_bytes(render(doc).encode(encoding))

    return write_text


_WRITERS: dict[str, Callable[[Document, Path], None]] = {
    "md": _text_writer(render_md, "utf-8"),
    "html": _text_writer(render_html, "utf-8"),
    # Excel reads UTF-8 CSV correctly only with the byte-order mark.
    "csv": _text_writer(render_csv, "utf-8-sig"),
    "xlsx": write_xlsx,
}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ReportWriteError(
            _("unknown report format '{value}': choose one of {choices}").format(
                value=fmt, choices=", ".join(FORMATS)
            )
        )
    return fmt


def _cannot(path: Path, why: str) -> ReportWriteError:
    return ReportWriteError(_("cannot write {path}: {why}").format(path=path, why=why))


def check_target(path: str | os.PathLike[str]) -> Path:
    """``path`` as the report's target, refused (one line) when its folder is missing or not
    writable, or when it names a folder."""
    target = Path(path)
    if not str(path).strip():
        raise _cannot(target, _("no file name"))
    folder = target.parent
    if target.is_dir():
        raise _cannot(target, _("it is a folder"))
    if not folder.is_dir():
        raise _cannot(target, _("the folder {folder} does not exist").format(folder=folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _cannot(target, _("the folder {folder} is not writable").format(folder=folder))
    return target


def write(doc: Document, fmt: str, path: str | os.PathLike[str]) -> Path:
    """Write ``doc`` as ``fmt`` to ``path`` through a temporary file in the same folder,
    renamed over ``path`` when complete (nothing is left behind on failure)."""
    writer = _WRITERS[check_format(fmt)]
    target = check_target(path)
    try:
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    except OSError as error:
        raise _cannot(target, error.strerror or str(error)) from None
    os.close(handle)
    temp = Path(temp_name)
    from xlsxwriter.exceptions import XlsxFileError

    try:
        writer(doc, temp)
        os.replace(temp, target)
    except (OSError, XlsxFileError) as error:
        temp.unlink(missing_ok=True)
        raise _cannot(target, getattr(error, "strerror", None) or str(error)) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target
