"""Read an uploaded household file (CSV or XLSX) into text cells, safely, for the one import core.

The kind is decided by the first bytes, never by the name: a zip must be a workbook (and is measured
before openpyxl inflates anything: entry count, declared sizes, compression ratio); other binary
formats are refused. CSV text is decoded as UTF-8 (with or without BOM), UTF-16 (with its BOM) or
GB18030, as Excel in China saves it; anything else is refused rather than stored as mojibake. XLSX is
streamed with openpyxl in read-only mode; formulas are kept as their text (``=HYPERLINK(...)`` is stored
verbatim, never evaluated), numbers are written as Excel shows them, so an ID number Excel turned into
``1.10105E+17`` stays a wrong ID number and gets its row error.

Every cell comes back as text in a DataFrame with the file's own headers, plus CSV bytes that
PostgreSQL's COPY reads (the file itself when it is UTF-8 or GB18030 CSV).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from dataclasses import dataclass

import pandas as pd
from django.utils.translation import gettext as _

MAX_ZIP_ENTRIES = 1_000
MAX_UNZIPPED = 1_000_000_000  # a million households in XLSX inflate to ~250 MB of sheet XML
MAX_RATIO = 100  # sheet XML compresses ~10-20x; a bomb compresses thousands of times
_OTHER_BINARY = (
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


class UnreadableFile(ValueError):
    """The file as a whole cannot be read: ``reason`` is shown to the user, ``code`` is stable."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass
class Table:
    frame: pd.DataFrame  # every cell as text; the header is spreadsheet row 1
    csv: bytes  # the same rows as CSV for COPY
    encoding: str  # PostgreSQL's name for the encoding of ``csv``
    kind: str  # "csv" | "xlsx"


def read_bytes(source) -> bytes:
    """A path, a binary file object or bytes → bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            return fh.read()
    raw = source.read()
    return raw.encode("utf-8") if isinstance(raw, str) else raw


def read_table(data: bytes, filename: str = "") -> Table:
    """Read ``data`` (CSV or XLSX, by its first bytes) into a :class:`Table`; raises UnreadableFile.

    Examples
    --------
    >>> table = read_table("经度,纬度\\n116.4,39.9\\n".encode("utf-8"))
    >>> list(table.frame.columns), table.kind
    (['经度', '纬度'], 'csv')
    """
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise UnreadableFile("empty_file", _("文件是空的"))
    name = filename.lower()
    if data.startswith(b"PK\x03\x04"):
        table = _read_xlsx(data)
    elif name.endswith((".xlsx", ".xlsm", ".xls")):
        raise UnreadableFile("not_xlsx", _("文件扩展名是 Excel，但内容不是 XLSX 工作簿（文件头不符）"))
    elif data.startswith(_OTHER_BINARY):
        raise UnreadableFile("unsupported_type", _("不支持的文件类型：请上传 CSV 或 XLSX"))
    else:
        table = _read_csv(data)
    if table.frame.empty:
        raise UnreadableFile("no_rows", _("文件只有表头，没有住户行"))
    return table


def _read_csv(data: bytes) -> Table:
    if data.startswith(_UTF16_BOMS):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableFile("bad_encoding", _("文件编码无法识别（请用 UTF-8 或 GBK 保存）")) from None
    elif data[:200].count(b"\x00") > 20:  # UTF-16 without its BOM: every other byte is zero
        raise UnreadableFile("bad_encoding", _("文件像是没有 BOM 的 UTF-16：请另存为 UTF-8 或 GBK 的 CSV"))
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
            raise UnreadableFile("empty_file", _("文件是空的")) from None
        except pd.errors.ParserError as exc:
            raise UnreadableFile("malformed_csv", str(exc).strip()[:300]) from None
        frame.columns = [str(c).lstrip("\ufeff") for c in frame.columns]
        return Table(frame, data, pg_encoding, "csv")
    raise UnreadableFile("bad_encoding", _("文件编码无法识别（请用 UTF-8 或 GBK 保存）"))


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            names = {e.filename for e in entries}
    except zipfile.BadZipFile:
        raise UnreadableFile("not_xlsx", _("文件不是有效的 XLSX 工作簿")) from None
    if (
        len(entries) > MAX_ZIP_ENTRIES
        or sum(e.file_size for e in entries) > MAX_UNZIPPED
        or any(e.file_size > 1_000_000 and e.file_size > MAX_RATIO * max(e.compress_size, 1) for e in entries)
    ):
        raise UnreadableFile("zip_bomb", _("文件解压后过大或压缩比异常，已拒绝（未解压）"))
    if "xl/workbook.xml" not in names:
        raise UnreadableFile("not_xlsx", _("压缩包不是 XLSX 工作簿"))


def _cell_text(value) -> str:
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
    _check_zip(data)
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [_cell_text(v).strip() for v in next(rows, ())]
        body = [[_cell_text(v) for v in values] for values in rows]
        book.close()
    except UnreadableFile:
        raise
    except Exception:  # openpyxl raises many types for a damaged workbook: all mean "cannot read it"
        raise UnreadableFile("not_xlsx", _("无法读取 XLSX 文件")) from None
    while header and not header[-1]:
        header.pop()
    if not header:
        raise UnreadableFile("empty_file", _("工作表第一行没有表头"))
    while body and not any(cell.strip() for cell in body[-1]):
        body.pop()  # formatted but empty rows at the end (the template pre-formats 500 rows)
    width = len(header)
    cells = [(row + [""] * width)[:width] for row in body]
    overflow = [i for i, row in enumerate(body) if any(c.strip() for c in row[width:])]
    if overflow:
        raise UnreadableFile("ragged", _("第 {} 行的单元格超出表头的列").format(overflow[0] + 2))
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
