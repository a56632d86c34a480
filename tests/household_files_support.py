"""Household files for the import tests: good rows, XLSX workbooks and the hostile cases (security.md b),
shared by the service tests and the web-path tests so both check the same list."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

HEADER = ["经度", "纬度", "地址", "户主", "电话", "身份证号", "人数", "外部编号"]
# Valid GB 11643 numbers with birth year 1900 (the synthetic city has none of these).
IDS = ["11010519000101001X", "110105190001010028", "110105190001010036", "110105190001010044"]


def csv_bytes(rows: list[list], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    lines = [",".join(header)] + [",".join(str(c) for c in r) for r in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def xlsx_bytes(rows: list[list], header: list[str] = HEADER) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    """A zip named like a workbook whose sheet inflates 20 MB of zeros from ~20 kB (ratio ~1000)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 20_000_000)
    return buffer.getvalue()


@dataclass(frozen=True)
class Hostile:
    name: str
    data: bytes
    filename: str
    row: int  # the first error's row (1: the file or its header)
    column: str  # the first error's column ("" for the file as a whole)
    reason: str  # a part of the first error's reason


def hostile_cases(lon: float, lat: float) -> list[Hostile]:
    """Every bad file of the brief, each with the error it must produce; ``lon, lat`` is a good point."""
    good = [lon, lat, "幸福路1号", "王建国", "13812345678", IDS[0], 3, "X-1"]

    def with_(**cells) -> list:
        row = list(good)
        for name, value in cells.items():
            row[HEADER.index(name)] = value
        return row

    return [
        Hostile("excel-mangled id", csv_bytes([with_(身份证号="1.10105E+17")]), "h.csv", 2, "身份证号", "18 位"),
        Hostile(
            "excel-mangled id in xlsx",
            xlsx_bytes([with_(身份证号=110105194912310021)]),
            "h.xlsx",
            2,
            "身份证号",
            "18 位",
        ),
        Hostile("bad phone", csv_bytes([with_(电话="12345")]), "h.csv", 2, "电话", "手机"),
        Hostile(
            "duplicate id in file", csv_bytes([good, with_(外部编号="X-2")]), "h.csv", 3, "身份证号", "与第 2 行重复"
        ),
        Hostile("nul byte", csv_bytes([with_(户主="王\x00建国")]), "h.csv", 2, "户主", "控制字符"),
        Hostile("10000-char name", csv_bytes([with_(户主="王" * 10_000)]), "h.csv", 2, "户主", "50"),
        Hostile("zero-width", csv_bytes([with_(户主="王\u200b建国")]), "h.csv", 2, "户主", "不可见"),
        Hostile("rtl override", csv_bytes([with_(地址="幸福路\u202e号1")]), "h.csv", 2, "地址", "不可见"),
        Hostile("xlsx that is no zip", b"<html>not a workbook</html>", "h.xlsx", 1, "", "XLSX"),
        Hostile("zip bomb as xlsx", zip_bomb(), "h.xlsx", 1, "", "压缩比"),
        Hostile("empty file", b"", "h.csv", 1, "", "空"),
        Hostile("headers only", csv_bytes([]), "h.csv", 1, "", "只有表头"),
        Hostile(
            "missing required column",
            csv_bytes([[lon, lat, "幸福路1号"]], header=["经度", "纬度", "地址"]),
            "h.csv",
            1,
            "户主/head_name",
            "缺少",
        ),
        Hostile("utf-16 without bom", csv_bytes([good], encoding="utf-16-le"), "h.csv", 1, "", "UTF-16"),
        Hostile(
            "undecodable bytes",
            csv_bytes([good]).replace("幸福".encode(), b"\xff\xfe\xfd\xfc\xff\xff"),
            "h.csv",
            1,
            "",
            "编码",
        ),
        Hostile("old excel binary", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "h.csv", 1, "", "不支持"),
    ]
