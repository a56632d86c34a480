"""The concern ledger as XLSX (台账, issue #17): a title row, Chinese headers, one row per concern
(queries/concern_ledger.ledger_rows), in the UI's language.

Written with openpyxl's write-only workbook: rows stream into the file as they are read, so memory stays flat.
Its pure-Python XML writer costs about 15 µs a cell: a period at the export cap (settings.CONCERN_LEDGER_MAX_ROWS,
20,000 rows of 17 columns) takes 5-6 s of CPU, a fifth of gunicorn's 30 s worker timeout (measured in
tests/test_concern_reports.py, which holds it under half of that on a busy machine). Text a
spreadsheet would run as a formula gets a leading apostrophe (planner/exports.neutralise); times are the site's
local time, as the pages show them."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from gridmap.models.concerns import (
    DEFAULT_CATEGORY_NAMES,
    OPEN_STATES,
    ConcernSource,
    ConcernState,
    Feedback,
    HandlerLevel,
    Urgency,
)
from gridmap.planner.exports import neutralise

# (header, width) in column order: the fields of queries/concern_ledger.FIELDS, and 是否超期 from state and deadline.
COLUMNS = (
    (gettext_lazy("编号"), 9),
    (gettext_lazy("类别"), 12),
    (gettext_lazy("紧急程度"), 9),
    (gettext_lazy("来源"), 11),
    (gettext_lazy("状态"), 9),
    (gettext_lazy("网格"), 14),
    (gettext_lazy("社区"), 14),
    (gettext_lazy("上报时间"), 17),
    (gettext_lazy("当前时限"), 17),
    (gettext_lazy("是否超期"), 9),
    (gettext_lazy("返工次数"), 9),
    (gettext_lazy("重办次数"), 9),
    (pgettext_lazy("ledger column: was the concern escalated", "督办"), 7),
    (gettext_lazy("回访评价"), 10),
    (gettext_lazy("处置层级"), 10),
    (gettext_lazy("处置单位"), 16),
    (gettext_lazy("描述"), 60),
)
TIME_FORMAT = "yyyy-mm-dd hh:mm"
OPEN = {str(s) for s in OPEN_STATES}


def _time(sheet, moment: dt.datetime | None) -> WriteOnlyCell | None:
    """A time cell in the site's local time without its zone (Excel has none); None for no time."""
    if moment is None:
        return None
    cell = WriteOnlyCell(sheet, timezone.localtime(moment).replace(tzinfo=None))
    cell.number_format = TIME_FORMAT
    return cell


def ledger_xlsx(rows: Iterable[dict], *, title: str) -> tuple[bytes, int]:
    """The ledger of ``rows`` (queries/concern_ledger.ledger_rows); the file's bytes and the number of rows."""
    # Every label translated once, not once per cell (a third of the time at 20,000 rows).
    labels = {name: {value: str(text) for value, text in choices.choices} for name, choices in (
        ("urgency", Urgency), ("source", ConcernSource), ("state", ConcernState), ("feedback", Feedback),
        ("handler_level", HandlerLevel))}  # fmt: skip
    categories: dict[str, str] = {}
    yes, no = _("是"), _("否")
    now = timezone.now()

    def label(field: str, value: str) -> str | None:
        return labels[field].get(value, value) if value else None  # None: no cell written at all

    def category(name: str) -> str:
        if name not in categories:
            categories[name] = neutralise(gettext(name) if name in DEFAULT_CATEGORY_NAMES else name)
        return categories[name]

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("诉求台账"))
    for index, (_header, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B3"
    heading = WriteOnlyCell(sheet, neutralise(title))
    heading.font = Font(size=14, bold=True)
    sheet.append([heading])
    headers = []
    for header, _width in COLUMNS:
        cell = WriteOnlyCell(sheet, str(header))
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
        headers.append(cell)
    sheet.append(headers)
    count = 0
    for r in rows:
        times = [_time(sheet, r["created_at"]), _time(sheet, r["due_at"])]
        sheet.append([
            r["id"],
            category(r["category__name"]),
            label("urgency", r["urgency"]),
            label("source", r["source"]),
            label("state", r["state"]),
            neutralise(r["grid__name"]),
            neutralise(r["community__name"]),
            *times,
            yes if r["state"] in OPEN and r["due_at"] and r["due_at"] < now else no,
            r["rework"],
            r["reopened"],
            yes if r["escalated"] else no,
            label("feedback", r["feedback"]),
            label("handler_level", r["handler_level"]),
            neutralise(r["handler_name"]) or None,
            neutralise(r["description"]),
        ])  # fmt: skip
        count += 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), count
