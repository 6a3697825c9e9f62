"""Spreadsheet-safe exports: one rule for every CSV and XLSX the project writes.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
run as a formula by Excel and LibreOffice (OWASP « CSV injection »): a plan or antenna
named ``=HYPERLINK("http://…")`` would become a live link in the ARS's spreadsheet.

* CSV: such text gets a leading apostrophe (the OWASP rule); numbers, and text that
  is a plain number such as ``-2,5``, are left as they are.
* XLSX: such text is written as a *text* cell (never a formula) with Excel's
  « quote prefix » style, so the value itself is unchanged.

Readers of our own files (``coverage.planfile``) drop the apostrophe again with
:func:`unneutralise`, so a round trip keeps names exactly.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def is_formula_like(text: str) -> bool:
    """True when ``text`` would be interpreted as a formula by a spreadsheet."""
    return text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(text)


def safe_cell(value: Any) -> Any:
    """The value to write in a CSV cell: formula-like text gets a leading apostrophe."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return value


def unneutralise(text: str) -> str:
    """Undo :func:`safe_cell` on a value read back from one of our exports."""
    if text.startswith("'") and is_formula_like(text[1:]):
        return text[1:]
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]], *,
             delimiter: str = ";", decimal_comma: bool = True, bom: bool = True) -> str:
    """A whole CSV document as text (Excel-friendly: ``;``, BOM, decimal comma)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([_csv_value(v, decimal_comma=decimal_comma) for v in row])
    return ("\ufeff" if bom else "") + out.getvalue()


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *,
              delimiter: str = ";", decimal_comma: bool = True) -> Path:
    """Write :func:`csv_text` to ``path`` (UTF-8 with BOM)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(header, rows, delimiter=delimiter, decimal_comma=decimal_comma),
                    encoding="utf-8", newline="")
    return path


def _csv_value(value: Any, *, decimal_comma: bool) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if decimal_comma else text
    try:  # numpy / pandas scalars
        import numbers

        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            return _csv_value(float(value), decimal_comma=decimal_comma)
    except (TypeError, ValueError):
        pass
    return safe_cell(str(value)) if not isinstance(value, int) else value


def write_xlsx(path: str | Path, sheets: Sequence[tuple[str, Sequence[str],
                                                         Iterable[Sequence[Any]]]], *,
               widths: dict[str, Sequence[int]] | None = None) -> Path:
    """Write one XLSX workbook; every text cell is text, never a formula.

    Parameters
    ----------
    path
        The file to write.
    sheets
        ``(title, header, rows)`` per sheet, in order.
    widths
        Optional column widths (characters) per sheet title.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([str(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_xlsx_value(v) for v in row])
        for row_cells in sheet.iter_rows(min_row=2):
            for cell in row_cells:
                if isinstance(cell.value, str):
                    # Force a text cell: openpyxl would store "=…" as a formula.
                    cell.data_type = "s"
                    if is_formula_like(cell.value):
                        cell.quotePrefix = True
        for letter_index, width in enumerate((widths or {}).get(title, ())):
            from openpyxl.utils import get_column_letter

            sheet.column_dimensions[get_column_letter(letter_index + 1)].width = width
        sheet.freeze_panes = "A2"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _xlsx_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, str):
        return value
    try:
        import numbers

        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            number = float(value)
            return number if math.isfinite(number) else None
    except (TypeError, ValueError):
        pass
    return str(value)
