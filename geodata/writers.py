"""Write one layer (a :class:`Table`) to GeoJSON, GeoPackage, zipped Shapefile, XLSX or CSV on disk.

Pure Python (pyogrio, openpyxl, csv); the caller streams the file from its temporary directory.

- GeoJSON, GeoPackage and Shapefile use the ASCII ``keys`` (Shapefile field names are ≤ 10 bytes);
  the Shapefile is zipped with its ``.cpg`` (UTF-8) and ``.prj`` (EPSG:4326). A text value longer than a
  ``.dbf`` field holds (254 bytes) is refused instead of being cut.
- CSV (UTF-8 with BOM, for Excel) and XLSX use the Chinese ``labels``; points become 经度/纬度 columns,
  other geometries a WKT column at full precision, and a 坐标系 column says WGS84. Every text cell that a spreadsheet would run as a
  formula (first character ``= + - @``, tab or CR) gets a leading ``'`` (OWASP CSV injection,
  ASVS V1.2.10); :func:`geodata.tables.read_table` removes it again on import. Text is written as
  XLSX text cells, so 12-digit codes and ID numbers never become numbers.

Examples
--------
>>> import tempfile, pathlib, shapely
>>> t = Table("stations", ["name"], ["名称"], [("=1+1",)], [shapely.Point(116.4, 39.9)])
>>> path = write_table(t, "csv", pathlib.Path(tempfile.mkdtemp()))
>>> path.read_bytes().decode("utf-8-sig").splitlines()
['名称,经度,纬度,坐标系', "'=1+1,116.4,39.9,WGS84"]
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import shapely
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

FORMATS = ("geojson", "gpkg", "shp", "xlsx", "csv")
SPATIAL_FORMATS = ("geojson", "gpkg", "shp")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_CELL_MAX = 32_767
DBF_TEXT_MAX = 254
WKT_LABEL = "几何(WKT)"
LON_LABEL, LAT_LABEL, CRS_LABEL = "经度", "纬度", "坐标系"
SUFFIX = {"geojson": ".geojson", "gpkg": ".gpkg", "shp": ".zip", "xlsx": ".xlsx", "csv": ".csv"}


class WriteRefused(ValueError):
    """The layer cannot be written in this format (``code``), e.g. a value too long for a .dbf field."""

    def __init__(self, code: str, detail: str = ""):
        self.code, self.detail = code, detail
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass
class Table:
    """A layer to write: ASCII ``keys`` and Chinese ``labels`` per column, the rows and their geometries
    (EPSG:4326 shapely objects, or ``None`` for a layer without geometry such as members)."""

    name: str
    keys: list[str]
    labels: list[str]
    rows: list[tuple]
    geometries: list | None = None


def neutralise(value):
    """``'=HYPERLINK(…)'`` → ``"'=HYPERLINK(…)"``; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_table(table: Table, fmt: str, folder: Path) -> Path:
    """Write ``table`` as ``fmt`` into ``folder`` and return the file's path (a .zip for Shapefiles)."""
    if fmt not in FORMATS:
        raise WriteRefused("unknown_format", fmt)
    if fmt in SPATIAL_FORMATS and table.geometries is None:
        raise WriteRefused("format_needs_geometry", fmt)
    path = folder / f"{table.name}{SUFFIX[fmt]}"
    if fmt == "csv":
        _write_csv(table, path)
    elif fmt == "xlsx":
        _write_xlsx(table, path)
    else:
        _write_gdal(table, fmt, folder, path)
    return path


def _frame(table: Table) -> gpd.GeoDataFrame:
    columns = {key: [row[i] for row in table.rows] for i, key in enumerate(table.keys)}
    return gpd.GeoDataFrame(columns, geometry=list(table.geometries), crs=4326)


def _write_gdal(table: Table, fmt: str, folder: Path, path: Path) -> None:
    frame = _frame(table)
    if fmt == "geojson":
        pyogrio.write_dataframe(frame, path, driver="GeoJSON", layer=table.name)
    elif fmt == "gpkg":
        pyogrio.write_dataframe(frame, path, driver="GPKG", layer=table.name)
    else:
        for i, key in enumerate(table.keys):
            longest = max((len(str(row[i]).encode()) for row in table.rows if isinstance(row[i], str)), default=0)
            if longest > DBF_TEXT_MAX:
                raise WriteRefused("too_long_for_shapefile", f"{key}: {longest} bytes > {DBF_TEXT_MAX}")
        parts = folder / "shp"
        parts.mkdir()
        pyogrio.write_dataframe(frame, parts / f"{table.name}.shp", driver="ESRI Shapefile", encoding="UTF-8")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(parts.iterdir()):
                archive.write(part, part.name)


def _geometry_columns(table: Table) -> tuple[list[str], list[tuple]]:
    """Labels and per-row values of the geometry: 经度/纬度 for points, WKT otherwise."""
    if table.geometries is None:
        return [], [()] * len(table.rows)
    geoms = list(table.geometries)
    # The 坐标系 column makes the file importable as it is: a table must declare its coordinate system.
    if geoms and all(g is not None and g.geom_type == "Point" for g in geoms):
        return [LON_LABEL, LAT_LABEL, CRS_LABEL], [(g.x, g.y, "WGS84") for g in geoms]
    return [WKT_LABEL, CRS_LABEL], [
        (shapely.to_wkt(g, rounding_precision=-1) if g is not None else "", "WGS84") for g in geoms
    ]


def _write_csv(table: Table, path: Path) -> None:
    extra_labels, extra = _geometry_columns(table)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(table.labels + extra_labels)
        # One comprehension per row instead of a call per cell: a 100k-row export has millions of cells.
        writer.writerows(
            [
                ""
                if v is None
                else repr(v)
                if type(v) is float
                else "'" + v
                if type(v) is str and v.startswith(FORMULA_START)
                else v
                for v in (*row, *geometry)
            ]
            for row, geometry in zip(table.rows, extra)
        )


def _xlsx_value(value):
    if not isinstance(value, str):
        return value
    if len(value) > XLSX_CELL_MAX:
        raise WriteRefused("too_long_for_xlsx", f"{len(value)} > {XLSX_CELL_MAX}")
    # Control characters XML cannot hold become U+FFFD (the import refuses them anyway).
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", neutralise(value))


def _write_xlsx(table: Table, path: Path) -> None:
    extra_labels, extra = _geometry_columns(table)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(table.name[:31])
    bold = Font(bold=True)
    header = []
    for label in table.labels + extra_labels:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row, geometry in zip(table.rows, extra):
        # Plain values (no per-cell style objects: those cost ~90 µs a cell); a str is written as a text
        # cell, so codes and ID numbers stay text.
        sheet.append([_xlsx_value(v) for v in (*row, *geometry)])
    book.save(path)
