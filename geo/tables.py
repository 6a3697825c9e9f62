"""Reading the spreadsheets users give us: CSV (``;`` or ``,``; UTF-8, UTF-8 BOM or
Windows-1252, as French spreadsheets export them) and XLSX.

Line numbers follow the spreadsheet: the header is line 1, the first data row line 2.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from geo.archives import MAX_ROWS
from geo.errors import MaillageError
from geo.text import fold

#: A plan or directory CSV is a few megabytes at most.
MAX_TEXT_BYTES = 50 * 1024 * 1024


@dataclass
class Table:
    """Header (as written) and rows (``(line number, values)``) of a file."""

    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]
    encoding: str | None = None
    delimiter: str | None = None

    def column(self, aliases: set[str]) -> int | None:
        """Index of the first header whose folded name is one of ``aliases``."""
        for i, name in enumerate(self.header):
            if fold(name) in aliases:
                return i
        return None


def decode(raw: bytes, *, path: Path) -> tuple[str, str]:
    """Decode UTF-8 (with or without BOM), else Windows-1252."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise MaillageError(
            f"« {path.name} » : encodage non reconnu (ni UTF-8 ni Windows-1252, "
            f"octet {exc.start})."
        ) from exc


def sniff_delimiter(first_line: str) -> str:
    """``;`` or ``,`` (or tab), whichever splits the header into the most columns."""
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def read_table(path: str | Path) -> Table:
    """Read a CSV or XLSX file; raise a French :class:`MaillageError` when unreadable."""
    path = Path(path)
    if not path.is_file():
        raise MaillageError(f"Fichier introuvable : « {path} ».")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return _read_xlsx(path)
    if suffix == ".xls":
        raise MaillageError(f"« {path.name} » : l'ancien format .xls n'est pas lu ; "
                            "enregistrez-le en .xlsx ou en .csv.")
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise MaillageError(f"« {path.name} » : fichier de plus de "
                            f"{MAX_TEXT_BYTES // (1024 * 1024)} Mo : refusé.")
    raw = path.read_bytes()
    if raw[:4] == b"PK\x03\x04":
        return _read_xlsx(path)
    if b"\x00" in raw[:2048]:
        raise MaillageError(f"« {path.name} » n'est pas un fichier texte CSV.")
    text, encoding = decode(raw, path=path)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise MaillageError(f"« {path.name} » est vide ou n'a pas de ligne d'en-tête.")
    delimiter = sniff_delimiter(lines[0])
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        all_rows = list(reader)
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit()
        raise MaillageError(f"« {path.name} » : CSV illisible, ligne {reader.line_num} "
                            f"({exc}).") from exc
    if len(all_rows) > MAX_ROWS + 1:
        raise MaillageError(f"« {path.name} » : plus de {MAX_ROWS} lignes : fichier refusé.")
    header = [h.strip() for h in all_rows[0]]
    rows = [(i + 2, [c.strip() for c in r]) for i, r in enumerate(all_rows[1:])
            if any(c.strip() for c in r)]
    return Table(path=path, header=header, rows=rows, encoding=encoding, delimiter=delimiter)


def _read_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    from geo.archives import MAX_COLUMNS, MAX_ROWS, check_zip

    check_zip(path)  # before openpyxl unpacks anything
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on a corrupt file
        raise MaillageError(f"« {path.name} » : classeur XLSX illisible ({exc}).") from exc
    try:
        sheet = workbook.worksheets[0]
        values: list[list[str]] = []
        # Streaming, with a column cap: a forged dimension (A1:XFD1048576) cannot make
        # openpyxl pad every row to 16,384 cells.
        for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            if len(values) > MAX_ROWS:
                raise MaillageError(f"« {path.name} » : plus de {MAX_ROWS} lignes "
                                    + "dans la feuille : fichier refusé.")
            values.append(["" if v is None else _cell(v) for v in row])
    except MaillageError:
        raise
    except Exception as exc:  # a corrupt sheet XML
        raise MaillageError(f"« {path.name} » : classeur XLSX illisible ({exc}).") from exc
    finally:
        workbook.close()
    if not values or not any(values[0]):
        raise MaillageError(f"« {path.name} » : la première feuille n'a pas de ligne d'en-tête.")
    header = [h.strip() for h in values[0]]
    rows = [(i + 2, r) for i, r in enumerate(values[1:]) if any(c for c in r)]
    return Table(path=path, header=header, rows=rows)


def _cell(value: object) -> str:
    # Spreadsheets turn INSEE codes like 43001 into numbers: give them back as text.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
