"""Dated relations (a grid assignment, a help pair) end once and never before they began: one rule for both.

The row is kept with its end date as history; callers lock it (select_for_update) and check rights first.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from gridmap.services.refused import Refused


def end_period(row, end: dt.date, ended_detail: str):
    """Set ``row.end_date``; 409 when it has ended already, 400 when ``end`` is before its start."""
    if row.end_date is not None:
        raise Refused(409, "already_ended", field="end_date", detail=ended_detail)
    if end < row.start_date:
        raise Refused(400, "bad_date", field="end_date", detail=_("结束日期不能早于开始日期"))
    row.end_date = end
    row.save(update_fields=["end_date"])
    return row
