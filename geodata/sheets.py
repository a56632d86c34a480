"""The one reader of uploaded tables (CSV or XLSX) into text cells, for every import: households, members and
the point/WKT tables of the layer import (geodata/tables.py). One set of limits, one treatment of cells.

- The kind is decided by the first bytes, never by the name: a zip must be a workbook and is measured before
  openpyxl inflates anything (:func:`geodata.io.check_zip` with the table limits below: entry count, declared
  sizes, compression ratio, unsafe names); other binary formats are refused.
- CSV text is decoded as UTF-8 (with or without BOM), UTF-16 (with its BOM) or GB18030, as Excel in China
  saves it; anything else is refused rather than kept as mojibake.
- XLSX is streamed by openpyxl in read-only mode. A formula is kept as its text (``=HYPERLINK(...)`` is
  stored verbatim, never evaluated); numbers are written as Excel shows them, so an ID number Excel turned
  into ``1.10105E+17`` stays a wrong ID number and gets its row error.
- The ``'`` our exports put before text that looks like a formula (geodata.writers.neutralise) is taken off
  again, so an export reads back as it was.

Refusals are :class:`UnreadableTable` with a stable code (the application words it: services/reasons.py)
and, where there is one, a detail such as the row.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass

import pandas as pd

from geodata.io import check_zip
from geodata.validation import GeometryRejected
from geodata.writers import FORMULA_START

# A million households in XLSX inflate to ~250 MB of sheet XML; sheet XML compresses ~10-20x, a bomb
# thousands of times. The same limits for every table.
MAX_ENTRIES = 1_000
MAX_UNZIPPED = 1_000_000_000
MAX_RATIO = 100
OTHER_BINARY = (
    b"\xd0\xcf\x11\xe0",
    b"%PDF",
    b"SQLite format 3",
    b"\x1f\x8b",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class UnreadableTable(ValueError):
    """The file as a whole cannot be read as a table: ``code`` is stable, ``detail`` says where."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail


@dataclass
class Table:
    frame: pd.DataFrame  # every cell as text; the header is spreadsheet row 1
    csv: bytes  # the same rows as CSV for COPY
    encoding: str  # PostgreSQL's name for the encoding of ``csv``
    kind: str  # "csv" | "xlsx"


def inflated_size(data: bytes) -> int:
    """The bytes a table will be parsed from: a workbook's declared uncompressed size, a CSV's own length. An XLSX
    of 2 MB can hold 180 MB of sheet XML; whether it is read in the request or in a job depends on this."""
    if not is_workbook(data):
        return len(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(entry.file_size for entry in archive.infolist())
    except zipfile.BadZipFile:
        return len(data)


def is_workbook(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04")


def read_cells(data: bytes, filename: str = "", *, max_inflated: int = MAX_UNZIPPED) -> Table:
    """Read ``data`` (CSV or XLSX, by its first bytes) into a :class:`Table`; raises UnreadableTable.

    >>> table = read_cells("经度,名称\\n116.4,'=A1\\n".encode("utf-8"))
    >>> list(table.frame.columns), table.frame.iloc[0].tolist(), table.kind
    (['经度', '名称'], ['116.4', '=A1'], 'csv')
    """
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise UnreadableTable("empty_file")
    if is_workbook(data):
        if inflated_size(data) > max_inflated:  # before openpyxl inflates anything (shared strings included)
            raise UnreadableTable("too_large", f"> {max_inflated // 1_000_000} MB")
        table = _read_xlsx(data)
    elif filename.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise UnreadableTable("not_xlsx")
    elif data.startswith(OTHER_BINARY):
        raise UnreadableTable("unsupported_type")
    else:
        table = _read_csv(data)
    if table.frame.empty:
        raise UnreadableTable("no_rows")
    if b"'" in table.csv:  # rare: look for an export's quote only when there is a quote at all
        restored = table.frame.apply(_restore_column)
        if not restored.equals(table.frame):  # then re-encode the COPY bytes
            table.frame = restored
            table.csv, table.encoding = restored.to_csv(index=False, lineterminator="\n").encode("utf-8"), "UTF8"
    return table


def _restore_column(column: pd.Series) -> pd.Series:
    """Undo an export's formula neutralisation: ``"'=SUM(1)"`` → ``"=SUM(1)"`` (set-based per column)."""
    text = column.astype(str)
    quoted = text.str.startswith("'") & text.str[1:].str.startswith(FORMULA_START)
    return column.where(~quoted, text.str[1:])


def _read_csv(data: bytes) -> Table:
    if data.startswith(_UTF16_BOMS):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableTable("bad_encoding") from None
    elif data[:200].count(b"\x00") > 20:  # UTF-16 without its BOM: every other byte is zero
        raise UnreadableTable("utf16_without_bom")
    for encoding, pg_encoding in (("utf-8-sig", "UTF8"), ("gb18030", "GB18030")):
        try:
            frame = pd.read_csv(
                io.BytesIO(data),
                dtype=object,
                keep_default_na=False,
                na_filter=False,
                encoding=encoding,
                skip_blank_lines=False,
            )
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise UnreadableTable("empty_file") from None
        except pd.errors.ParserError as exc:
            raise UnreadableTable("malformed_csv", str(exc).strip()[:300]) from None
        frame.columns = [str(c).lstrip("\ufeff") for c in frame.columns]
        return Table(frame, data, pg_encoding, "csv")
    raise UnreadableTable("bad_encoding")


def check_workbook(data: bytes) -> None:
    """The workbook's zip directory against the table limits (entries, sizes, ratio, names): UnreadableTable."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_zip(archive, max_entries=MAX_ENTRIES, max_unzipped=MAX_UNZIPPED, max_ratio=MAX_RATIO)
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise UnreadableTable("not_xlsx") from None
    except GeometryRejected as exc:
        raise UnreadableTable(exc.code, exc.detail) from None
    if "xl/workbook.xml" not in names:
        raise UnreadableTable("not_xlsx")


def cell_text(value) -> str:
    """A cell as Excel shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # an integral number below 10^15 is shown whole (a phone typed as a number); above that Excel
        # has already lost digits (ID numbers): keep its scientific form so the row is refused
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes) -> Table:
    check_workbook(data)
    from openpyxl import load_workbook

    try:
        # data_only=False: a cell holding "=HYPERLINK(...)" is read as that text, never its cached result.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [cell_text(v).strip() for v in next(rows, ())]
        body = [[cell_text(v) for v in values] for values in rows]
        book.close()
    except Exception:  # openpyxl raises many types for a damaged workbook: all mean "cannot read it"
        raise UnreadableTable("not_xlsx") from None
    while header and not header[-1]:
        header.pop()
    if not header:
        raise UnreadableTable("no_header")
    while body and not any(cell.strip() for cell in body[-1]):
        body.pop()  # formatted but empty rows at the end (the template pre-formats 500 rows)
    width = len(header)
    cells = [(row + [""] * width)[:width] for row in body]
    overflow = [i for i, row in enumerate(body) if any(c.strip() for c in row[width:])]
    if overflow:
        raise UnreadableTable("ragged", str(overflow[0] + 2))
    columns = _unique([h or f"列{i + 1}" for i, h in enumerate(header)])
    frame = pd.DataFrame(cells, columns=columns, dtype=object)
    text = frame.to_csv(index=False, lineterminator="\n")
    return Table(frame, text.encode("utf-8"), "UTF8", "xlsx")


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}.{seen[name] - 1}")
    return out
