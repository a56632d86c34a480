"""The household import template (住户导入模板.xlsx): Chinese headers, two example rows, notes.

ID number, phone, external id and 坐标系 columns are formatted as text for the first rows, so Excel
keeps 18-digit ID numbers and 11-digit phones as typed (as numbers it shows 1.10105E+17 and loses the
last digits). The examples are fictitious but valid (GB 11643 check digit, 1[3-9] mobile numbers).
"""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

HEADERS = ("经度", "纬度", "坐标系", "地址", "户主", "电话", "身份证号", "人数", "外部编号")
TEXT_COLUMNS = ("C", "F", "G", "I")  # 坐标系, 电话, 身份证号, 外部编号
TEXT_ROWS = 1_000
EXAMPLES = (
    (116.403963, 39.915119, "GCJ02", "幸福路1号3单元201", "王建国", "13812345678", "11010519000101001X", 3, "HH-0001"),
    (116.404512, 39.915876, "GCJ02", "幸福路1号3单元202", "李秀英", "", "110105190001010028", 1, "HH-0002"),
)


def household_template_xlsx() -> bytes:
    """The template as XLSX bytes: sheet 住户 (headers + examples), sheet 说明 (what each column takes)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("住户")
    sheet.append(list(HEADERS))
    for example in EXAMPLES:
        sheet.append(list(example))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFGHI", (12, 12, 10, 28, 10, 14, 22, 6, 14)):
        sheet.column_dimensions[column].width = width
    for row in range(2, TEXT_ROWS + 2):
        for column in TEXT_COLUMNS:
            sheet[f"{column}{row}"].number_format = "@"
    notes = book.create_sheet(_("说明"))
    for line in (
        (_("列"), _("说明")),
        ("经度 / 纬度", _("必填，十进制度")),
        ("坐标系", _("WGS84、CGCS2000、GCJ02（高德、腾讯）或 BD09（百度）；整个文件只能用一种，也可在上传时选择")),
        ("地址 / 户主", _("必填；地址最多 200 字，户主最多 50 字")),
        ("电话", _("选填，11 位手机号")),
        ("身份证号", _("选填，18 位，校验位须正确；请保持文本格式")),
        ("人数", _("选填，1 到 99，默认 1")),
        ("外部编号", _("选填；再次导入同一编号时更新该户，不会重复")),
    ):
        notes.append(list(line))
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 80
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
