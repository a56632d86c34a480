"""The planner's files (issue #6): the XLSX ledger (台账) of the coverage figures per grid, and the same
figures with the grid polygons as GeoJSON or GeoPackage.

No SQL and no counting here: the rows are ``queries.coverage.grid_coverage``'s and the totals row is
``queries.coverage_areas.area_coverage(grids, "selection")``, so a file says what the dashboard says.
Planners get their sensitive counts as "<5" (``planning.suppress``) in every format.

Spreadsheet safety: codes and phone numbers are written as text (Excel would turn a 15-digit code into
1.52922E+14), and any text starting with = + - @, a tab or a carriage return gets a leading ``'`` so that
no spreadsheet runs it as a formula (CSV/formula injection).
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from shapely import wkb

from gridmap.planner.metrics import suppress

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SENSITIVE = ("vulnerable", "vulnerable_uncovered")
# (key, header, text?) in column order; text columns keep their digits as typed.
COLUMNS = (
    ("code", gettext_lazy("网格代码"), True),
    ("name", gettext_lazy("网格名称"), False),
    ("households", gettext_lazy("住户数"), False),
    ("covered", gettext_lazy("服务站覆盖户数"), False),
    ("covered_pct", gettext_lazy("服务站覆盖率(%)"), False),
    ("linked", gettext_lazy("中心户联系户数"), False),
    ("linked_pct", gettext_lazy("中心户联系率(%)"), False),
    ("central", gettext_lazy("党员中心户数"), False),
    ("central_load", gettext_lazy("平均联系户数"), False),
    ("leaders", gettext_lazy("网格长人数"), False),
    ("leader_name", gettext_lazy("网格长"), False),
    ("leader_phone", gettext_lazy("网格长电话"), True),
    ("fulltime", gettext_lazy("专职网格员人数"), False),
    ("per_fulltime", gettext_lazy("每名专职网格员服务户数"), False),
    ("size_status", gettext_lazy("规模"), False),
    ("vulnerable", gettext_lazy("困难户"), False),
    ("vulnerable_uncovered", gettext_lazy("未覆盖困难户"), False),
)


def neutralise(value):
    """Text a spreadsheet would read as a formula gets a leading apostrophe; everything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _size_label(status: str) -> str:
    return {"under": _("偏小"), "ok": _("适中"), "over": _("偏大")}.get(status, status)


def ledger_rows(rows: list[dict], leaders: dict[int, tuple[str, str]], *, planner: bool) -> list[dict]:
    """``grid_coverage`` rows with the leader's name and (masked) phone, sensitive counts suppressed."""
    out = []
    for row in rows:
        name, phone = leaders.get(row["grid_id"], ("", ""))
        item = {**row, "leader_name": name, "leader_phone": phone, "size_status": _size_label(row["size_status"])}
        for key in SENSITIVE:
            item[key] = suppress(row[key], planner)
        for key in ("covered_pct", "linked_pct", "central_load", "per_fulltime"):
            item[key] = None if row[key] is None else round(row[key], 1)
        out.append(item)
    return out


def ledger_xlsx(rows: list[dict], totals: dict, *, title: str, planner: bool) -> bytes:
    """The 台账: a merged title row, Chinese headers, one row per grid, a totals row; returns the file's bytes."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("网格覆盖台账")
    width = len(COLUMNS)
    sheet.append([neutralise(title)])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1).font = Font(size=14, bold=True)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    sheet.append([str(header) for _key, header, _text in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        sheet.append(
            [neutralise(str(row[key]) if text and row[key] is not None else row[key]) for key, _header, text in COLUMNS]
        )
    total = {
        **totals,
        "code": "",
        "name": _("合计"),
        "leaders": None,
        "leader_name": "",
        "leader_phone": "",
        "size_status": "",
    }
    for key in ("covered_pct", "linked_pct", "per_fulltime", "central_load"):
        total[key] = None if totals[key] is None else round(totals[key], 1)
    for key in SENSITIVE:
        total[key] = suppress(totals[key], planner)
    sheet.append([neutralise(total.get(key)) for key, _header, _text in COLUMNS])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for index, (_key, header, text) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        if text:
            for cell in sheet[letter][1:]:
                cell.number_format = "@"  # text: Excel keeps every digit
        sheet.column_dimensions[letter].width = max(10, min(len(str(header)) * 2 + 2, 24))
    sheet.freeze_panes = "C3"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def metrics_frame(rows: list[dict], shapes: dict[int, bytes], *, planner: bool) -> gpd.GeoDataFrame:
    """Per-grid figures with their polygons (WKB by grid id), EPSG:4326; suppressed counts become text."""
    frame = pd.DataFrame(ledger_rows(rows, {}, planner=False)).drop(columns=["leader_name", "leader_phone"])
    frame["size_status"] = [row["size_status"] for row in rows]
    for key in SENSITIVE:
        if planner:
            frame[key] = [str(suppress(row[key], True)) for row in rows]
    geometry = gpd.GeoSeries([wkb.loads(bytes(shapes[row["grid_id"]])) for row in rows], crs="EPSG:4326")
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def write_file(frame: gpd.GeoDataFrame, driver: str, suffix: str, layer: str) -> io.BufferedReader:
    """Write ``frame`` with pyogrio into a temporary file and return it open for reading (already unlinked)."""
    with tempfile.TemporaryDirectory(prefix="gridmap-export-") as folder:
        path = Path(folder) / f"{layer}{suffix}"
        frame.to_file(path, driver=driver, layer=layer, engine="pyogrio")
        handle = path.open("rb")  # the open handle outlives the directory on POSIX
    return handle
