"""Read tables (CSV or XLSX with 经度/纬度, or a WKT column, and a 坐标系) into a GeoDataFrame in EPSG:4326.

The cells are read by the one table reader (geodata/sheets.py): a formula such as ``=HYPERLINK(...)`` is
the formula's text, never evaluated, and the ``'`` our exports put before such text
(:func:`geodata.writers.neutralise`) is taken off again, so names round-trip verbatim. The coordinate system is declared per row (a
坐标系 column) or for the whole file (``source_crs``); without either the table is refused, because
GCJ-02/BD-09 offsets cannot be detected. Rows are numbered as a spreadsheet shows them (header = row 1).

Examples
--------
>>> frame = read_table("名称,经度,纬度,坐标系\\n站一,116.4,39.9,WGS84\\n".encode())
>>> frame["名称"].tolist(), frame.geometry.x.tolist(), frame["_row"].tolist()
(['站一'], [116.4], [2])
"""

from __future__ import annotations

import io
import zipfile

import geopandas as gpd
import numpy as np
import shapely

from geodata.crs import resolve_crs, to_wgs84
from geodata.io import MAX_BYTES
from geodata.sheets import UnreadableTable, read_cells
from geodata.validation import GeometryRejected

MAX_ROWS = 5_000
MAX_INFLATED = 30_000_000  # 5,000 rows of 50 columns are a few MB of sheet XML; more is no layer table
MAX_COLUMNS = 50
LON = ("经度", "lon", "lng", "longitude", "x")
LAT = ("纬度", "lat", "latitude", "y")
CRS = ("坐标系", "crs", "source_crs")
WKT = ("几何(WKT)", "wkt", "geometry")


def is_table(data: bytes) -> bool:
    """XLSX (a zip holding xl/workbook.xml) or text that is neither JSON nor XML: a CSV."""
    if data.startswith(b"PK\x03\x04"):
        try:
            return "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return False
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    first_line = head.split(b"\n", 1)[0]  # a header line with NUL is binary, not a CSV (NUL in a row is a row error)
    return bool(head) and b"\x00" not in first_line and not head.startswith((b"{", b"<", b"SQLite format"))


def read_table(data: bytes, *, source_crs: str | None = None) -> gpd.GeoDataFrame:
    """CSV (UTF-8 with or without BOM, else GB18030) or XLSX bytes → geometries in EPSG:4326.

    Points come from 经度/纬度 columns, other shapes from a WKT column (as our exports write them).

    Columns keep their headers; ``_row`` holds the spreadsheet row. Raises GeometryRejected naming the
    field (``file``, ``经度``, ``坐标系`` …) and, in ``detail``, the row.
    """
    if len(data) > MAX_BYTES:
        raise GeometryRejected("too_large", field="file", too_large=True)
    try:
        frame = read_cells(data, max_inflated=MAX_INFLATED).frame
    except UnreadableTable as exc:
        code = "no_features" if exc.code in ("no_rows", "empty_file") else exc.code
        raise GeometryRejected(code, field="file", detail=exc.detail, too_large=code == "too_large") from None
    frame = frame.iloc[:, :MAX_COLUMNS]
    filled = (frame.apply(lambda column: column.str.strip()) != "").any(axis=1).to_numpy()
    if not filled.any():
        raise GeometryRejected("no_features", field="file")
    if filled.sum() > MAX_ROWS:
        raise GeometryRejected("too_many_features", field="file", detail=f"{int(filled.sum())} > {MAX_ROWS}")
    header = [str(h).strip() for h in frame.columns]
    rows = frame[filled].to_numpy(dtype=object).tolist()
    numbers = (np.flatnonzero(filled) + 2).tolist()  # spreadsheet rows: the header is row 1, blank rows count
    lookup = {h.strip().lower(): i for i, h in enumerate(header)}
    lon_i, lat_i, crs_i, wkt_i = (
        next((lookup[n.lower()] for n in names if n.lower() in lookup), None) for names in (LON, LAT, CRS, WKT)
    )
    if crs_i is None and not source_crs:
        raise GeometryRejected("crs_required", field="source_crs")
    systems = np.array(
        [
            (str(row[crs_i]).strip() if crs_i is not None and row[crs_i] not in (None, "") else source_crs or "")
            for row in rows
        ],
        dtype=object,
    )
    if wkt_i is not None and (lon_i is None or lat_i is None):
        geometries = _from_wkt(
            rows, numbers, wkt_i, header[wkt_i], systems, header[crs_i] if crs_i is not None else None
        )
        skip = (wkt_i,)
    else:
        geometries = _points(rows, numbers, header, lon_i, lat_i, crs_i, systems)
        skip = (lon_i, lat_i)
    columns = {h: [("" if r[i] is None else str(r[i])) for r in rows] for i, h in enumerate(header) if i not in skip}
    columns["_row"] = numbers
    return gpd.GeoDataFrame(columns, geometry=geometries, crs=4326)


def _from_wkt(rows, numbers, wkt_i, name, systems, crs_name) -> np.ndarray:
    geometries = np.empty(len(rows), dtype=object)
    for n, row in enumerate(rows):
        try:
            geometries[n] = shapely.from_wkt(str(row[wkt_i] or ""))
        except shapely.errors.GEOSException:
            raise GeometryRejected("bad_coordinates", field=name, detail=f"row {numbers[n]}") from None
        if geometries[n] is None or geometries[n].is_empty:
            raise GeometryRejected("empty", field=name, detail=f"row {numbers[n]}")
    for system in dict.fromkeys(systems):
        mask = systems == system
        if not system:
            raise GeometryRejected(
                "crs_required", field=crs_name or "source_crs", detail=f"row {numbers[int(np.flatnonzero(mask)[0])]}"
            )

        def convert(coords: np.ndarray, system=system) -> np.ndarray:
            return np.column_stack(to_wgs84(coords[:, 0], coords[:, 1], system))

        try:
            geometries[mask] = shapely.transform(geometries[mask], convert)
        except ValueError as exc:
            raise GeometryRejected("unknown_crs", field=crs_name or "source_crs", detail=str(exc)[:120]) from None
    return geometries


def _points(rows, numbers, header, lon_i, lat_i, crs_i, systems) -> np.ndarray:
    for index, names in ((lon_i, LON), (lat_i, LAT)):
        if index is None:
            raise GeometryRejected("column_missing", field=names[0], detail=names[0])
    lon, lat = np.empty(len(rows)), np.empty(len(rows))
    for n, row in enumerate(rows):
        for index, out, name in ((lon_i, lon, header[lon_i]), (lat_i, lat, header[lat_i])):
            try:
                out[n] = float(str(row[index]).strip())
            except (TypeError, ValueError):
                raise GeometryRejected("not_a_number", field=name, detail=f"row {numbers[n]}") from None
            if not np.isfinite(out[n]):
                raise GeometryRejected("not_a_number", field=name, detail=f"row {numbers[n]}")
    for name in dict.fromkeys(systems):  # one conversion per declared system, vectorised
        mask = systems == name
        if not name:
            raise GeometryRejected(
                "crs_required",
                field=header[crs_i] if crs_i is not None else "source_crs",
                detail=f"row {numbers[int(np.flatnonzero(mask)[0])]}",
            )
        try:
            lon[mask], lat[mask] = to_wgs84(lon[mask], lat[mask], resolve_crs(name, lon[mask]))
        except ValueError as exc:
            raise GeometryRejected(
                "unknown_crs",
                field=header[crs_i] if crs_i is not None else "source_crs",
                detail=f"row {numbers[int(np.flatnonzero(mask)[0])]}: {str(exc)[:120]}",
            ) from None
    return shapely.points(lon, lat)
