"""Import households from a CSV file: all or nothing, vectorised, loaded with COPY.

One core for every way in (the ``import_households`` command, an upload page, the tests, the benchmark):
read with pandas, validate every row at once, convert coordinates to WGS84, COPY into a temporary
staging table, then one INSERT ... SELECT that places each household in its grid and community with the
rule of :func:`gridmap.services.rehoming.homes_sql`. Any error saves nothing and comes back as
(row, column, reason), rows numbered as a spreadsheet shows them (the header is row 1).
"""
from __future__ import annotations

import io
import os
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db import DataError, connection, transaction
from django.utils.translation import gettext as _

from geodata.crs import normalise_crs, to_wgs84
from gridmap import sealed_fields
from gridmap.services import bulk
from gridmap.services.bulk import indexes_built_after
from gridmap.services.rehoming import homes_sql

# canonical column -> accepted headers (Chinese first, as street offices write them)
COLUMNS = {
    "lon": ("经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "address": ("地址", "address"),
    "head_name": ("户主", "head_name"),
    "phone": ("电话", "phone"),
    "id_number": ("身份证号", "id_number"),
    "residents": ("人数", "residents"),
    "external_id": ("外部编号", "external_id"),
}
REQUIRED = ("lon", "lat", "address", "head_name")
MAX_LENGTH = {"address": 200, "head_name": 50, "external_id": 64}
MAX_ERRORS = 1_000
BULK_WORK_MEM = "256MB"   # the id-ordered sorts of a million-row import stay in memory (64MB spills to disk)
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_DIGITS = "0123456789"
BLANK = " \t\r\n\u3000\u00a0"   # trimmed from every cell: spaces, tabs, line breaks, full-width and no-break spaces
BLANK_SQL = "' ' || chr(9) || chr(13) || chr(10) || chr(12288) || chr(160)"
_STR = np.dtypes.StringDType()


@dataclass(frozen=True)
class RowError:
    row: int          # spreadsheet row: the header is row 1, the first household row 2
    column: str       # the header as written in the file (or the canonical name when it is missing)
    reason: str


@dataclass
class ImportResult:
    imported: int = 0
    in_grid: int = 0
    without_grid: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0


def _read(path_or_file) -> tuple[pd.DataFrame, bytes, str]:
    """Every cell as text, plus the file's bytes and encoding: UTF-8 (with or without BOM), else
    GB18030 as Excel in China saves CSV. Blank lines are kept (as empty rows) and cells are not
    trimmed here, so pandas and PostgreSQL's COPY see the same rows with the same numbers."""
    if isinstance(path_or_file, (str, os.PathLike)):
        with open(path_or_file, "rb") as fh:
            raw = fh.read()
    else:
        raw = path_or_file.read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
    for encoding, pg_encoding in (("utf-8-sig", "UTF8"), ("gb18030", "GB18030")):
        try:
            frame = pd.read_csv(io.BytesIO(raw), dtype=object, keep_default_na=False, na_filter=False,
                                encoding=encoding, skip_blank_lines=False)
        except UnicodeDecodeError:
            continue
        return frame, raw, pg_encoding
    raise ValueError(_("文件编码无法识别（请用 UTF-8 或 GBK 保存）"))


def _canonical(frame: pd.DataFrame) -> tuple[dict[str, str], list[RowError]]:
    """Map canonical names to the file's headers; report missing required columns against row 1."""
    lookup = {h.strip().lower(): h for h in frame.columns}
    found, errors = {}, []
    for name, headers in COLUMNS.items():
        header = next((lookup[h.lower()] for h in headers if h.lower() in lookup), None)
        if header is not None:
            found[name] = header
        elif name in REQUIRED:
            errors.append(RowError(1, f"{headers[0]}/{name}", _("缺少必需的列")))
    return found, errors


class _Collector:
    """Error masks per (column, reason), turned into RowErrors only for the first MAX_ERRORS rows."""

    def __init__(self, headers: dict[str, str]):
        self.headers, self.masks = headers, []

    def add(self, column: str, mask, reason: str, detail=None) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.masks.append((column, mask, reason, detail))

    def result(self) -> tuple[list[RowError], int]:
        errors, total = [], 0
        for column, mask, reason, detail in self.masks:
            rows = np.flatnonzero(mask)
            total += len(rows)
            for i in rows[:MAX_ERRORS]:
                text = reason if detail is None else reason.format(detail[i])
                errors.append(RowError(int(i) + 2, self.headers.get(column, column), text))
        errors.sort(key=lambda e: (e.row, e.column))
        return errors[:MAX_ERRORS], total


def _digits_only(values: np.ndarray, allowed: str = _DIGITS) -> np.ndarray:
    # lstrip removes every leading allowed character: nothing left means nothing else was there
    # (str.isdigit would also accept full-width and other Unicode digits).
    return np.strings.lstrip(values, allowed) == ""


def _check_digit_ok(ids: np.ndarray) -> np.ndarray:
    """GB 11643: the 18th character is the ISO 7064 MOD 11-2 check of the first 17 digits."""
    raw = np.frombuffer(ids.astype("S18").tobytes(), dtype=np.uint8).reshape(len(ids), 18)
    digits = raw[:, :17].astype(np.int64) - 48
    return _ID_CHECK[(digits @ _ID_WEIGHTS) % 11] == raw[:, 17]


def _duplicates(values: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows repeating an earlier row's value, and that earlier row's spreadsheet number."""
    series = pd.Series(values.astype(object))
    mask = present & series.duplicated(keep="first").to_numpy()
    earlier = np.zeros(len(values), dtype=np.int64)
    if mask.any():
        first = series[present & ~mask]
        first_row = pd.Series(first.index.to_numpy() + 2, index=first.to_numpy())
        earlier[mask] = first_row.reindex(series[mask].to_numpy()).to_numpy()
    return mask, earlier


def _numbers(values: np.ndarray) -> np.ndarray:
    """Text → float64, NaN where it is no number (numpy's parser; pandas' coercing one is 2x slower)."""
    try:
        return values.astype(np.float64)
    except ValueError:
        return pd.to_numeric(pd.Series(values.astype(object)), errors="coerce").to_numpy(dtype=np.float64)


def _validate(frame: pd.DataFrame, headers: dict[str, str]) -> tuple[dict, list[RowError], int]:
    """Clean columns (canonical names) and the errors of every row, vectorised with numpy strings."""
    n, errs = len(frame), _Collector(headers)
    blank = np.full(n, "", dtype=_STR)
    text = {name: np.strings.strip(np.asarray(frame[headers[name]].to_numpy(), dtype=_STR), BLANK)
            if name in headers else blank for name in COLUMNS}
    clean = {}
    for name, limit in (("lon", 180.0), ("lat", 90.0)):
        empty = text[name] == ""
        value = _numbers(np.where(empty, "nan", text[name]))
        errs.add(name, empty, _("必填"))
        errs.add(name, ~empty & ~np.isfinite(value), _("不是有效数字"))
        errs.add(name, np.isfinite(value) & (np.abs(value) > limit), _("超出范围（经度 -180…180，纬度 -90…90）"))
        clean[name] = value
    for name in ("address", "head_name"):
        errs.add(name, text[name] == "", _("必填"))
    for name, limit in MAX_LENGTH.items():
        errs.add(name, np.strings.str_len(text[name]) > limit, _("超过 {} 个字符").format(limit))
    phone = text["phone"]
    mobile = ((np.strings.str_len(phone) == 11) & _digits_only(phone) & np.strings.startswith(phone, "1")
              & (np.strings.slice(phone, 1, 2) >= "3"))
    errs.add("phone", (phone != "") & ~mobile, _("不是 11 位手机号码（1[3-9] 开头）"))
    ids = np.strings.upper(text["id_number"])
    present = ids != ""
    shaped = (present & (np.strings.str_len(ids) == 18) & _digits_only(np.strings.slice(ids, 0, 17))
              & _digits_only(np.strings.slice(ids, 17, 18), _DIGITS + "X"))
    errs.add("id_number", present & ~shaped, _("身份证号应为 18 位（17 位数字加校验位）"))
    if shaped.any():
        wrong = np.zeros(n, dtype=bool)
        wrong[shaped] = ~_check_digit_ok(ids[shaped])
        errs.add("id_number", wrong, _("身份证号校验位错误"))
        dup, earlier = _duplicates(ids, shaped)
        errs.add("id_number", dup, _("与第 {} 行重复"), earlier)
    residents = text["residents"]
    count = _numbers(np.where(residents == "", "1", residents))
    errs.add("residents", ~(np.isfinite(count) & (count == np.round(count)) & (count >= 1) & (count <= 99)),
             _("人数应为 1 到 99 的整数"))
    external = text["external_id"]
    has_external = external != ""
    if has_external.any():
        dup, earlier = _duplicates(external, has_external)
        errs.add("external_id", dup, _("与第 {} 行重复"), earlier)
    clean["phone"], clean["id_number"] = phone, ids  # sealed before staging (gridmap.sealed_fields)
    errors, total = errs.result()
    return clean, errors, total


def _points_copy(lon: np.ndarray, lat: np.ndarray) -> io.BytesIO:
    """(row, lon, lat) in COPY's binary format: exact doubles, no text to format or parse."""
    record = np.dtype([("fields", ">i2"), ("len_id", ">i4"), ("id", ">i4"), ("len_lon", ">i4"), ("lon", ">f8"),
                       ("len_lat", ">i4"), ("lat", ">f8")])
    rows = np.empty(len(lon), dtype=record)
    rows["fields"], rows["len_id"], rows["len_lon"], rows["len_lat"] = 3, 4, 8, 8
    rows["id"], rows["lon"], rows["lat"] = np.arange(2, len(lon) + 2), lon, lat
    header = b"PGCOPY\n\xff\r\n\x00" + np.array([0, 0], dtype=">i4").tobytes()
    return io.BytesIO(header + rows.tobytes() + np.array([-1], dtype=">i2").tobytes())


# Two staging tables, both temporary and dropped at the end. household_import_raw receives the file's
# own bytes through COPY ... csv (PostgreSQL parses them; rebuilding a million rows of text in Python
# costs more than the whole COPY), one text column per file column, rows numbered in file order.
# household_import_point receives the converted coordinates in binary and computes each point while
# COPY writes it; its GiST index lets homes_sql drive the grid lookup from the polygons.
_STAGING = """
CREATE TEMP TABLE household_import_raw (n integer GENERATED ALWAYS AS IDENTITY, {columns}) ON COMMIT DROP;
CREATE TEMP TABLE household_import_point (id integer, lon float8, lat float8,
    location geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED
) ON COMMIT DROP;
"""
_STAGING_INDEX = ("CREATE INDEX ON household_import_point USING gist (location); "
                  "ANALYZE household_import_point; ANALYZE household_import_raw")
_CONFLICTS = """
SELECT r.n + 1 FROM household_import_raw r JOIN gridmap_household h ON h.external_id = {external}
 ORDER BY r.n LIMIT %s
"""
# Why SQL: one INSERT ... SELECT places and stores every household (computing the grid while loading
# costs a fraction of an UPDATE afterwards; reference/performance.md). The cleaning repeats _validate's
# (trim BLANK, upper-case ID numbers, default 1 resident) on the same cells.
_INSERT = """
WITH inserted AS (
INSERT INTO gridmap_household (external_id, location, community_id, grid_id, address, head_name, phone_sealed,
    phone_digest, phone_masked, id_number_sealed, id_number_digest, id_number_masked,
    residents, resident_type, is_party_member, elderly_alone, disabled, low_income, hardship, military,
    other_difficulty, source_crs, updated_at)
SELECT nullif({external_id}, ''), hm.location, hm.community_id, hm.grid_id, {address}, {head_name},
       sp.sealed, sp.digest, coalesce(sp.masked, ''), si.sealed, si.digest, coalesce(si.masked, ''),
       coalesce(nullif({residents}, ''), '1')::numeric::integer,
       'permanent', FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, %s, now()
  FROM ({homes}) hm
  JOIN household_import_raw r ON r.n + 1 = hm.id
  LEFT JOIN household_import_phone sp ON sp.key = hm.id LEFT JOIN household_import_id_number si ON si.key = hm.id
 ORDER BY hm.id
RETURNING grid_id)
SELECT count(*), count(grid_id) FROM inserted
"""


def _cells(frame: pd.DataFrame, headers: dict[str, str]) -> dict[str, str]:
    """SQL for each canonical column's cleaned cell in household_import_raw (alias r)."""
    position = {header: i for i, header in enumerate(frame.columns)}
    return {name: f"btrim(coalesce(r.c{position[headers[name]]}, ''), {BLANK_SQL})" if name in headers else "''"
            for name in COLUMNS}


def import_households_csv(path_or_file, *, source_crs: str) -> ImportResult:
    """Import the households of a CSV file; all or nothing.

    Parameters
    ----------
    path_or_file : str, os.PathLike or binary file
        CSV with a header row: 经度/lon, 纬度/lat, 地址/address, 户主/head_name (required), 电话/phone,
        身份证号/id_number, 人数/residents, 外部编号/external_id (optional).
    source_crs : str
        The coordinate system of the file: 'WGS84', 'CGCS2000', 'GCJ02' (高德/腾讯) or 'BD09' (百度).

    Returns
    -------
    ImportResult
        Counts of imported households and of those placed in a grid; with any error, ``errors`` lists
        (row, column, reason) (the first :data:`MAX_ERRORS`), ``error_count`` all of them, and nothing
        is saved.

    Examples
    --------
    >>> result = import_households_csv("households.csv", source_crs="GCJ02")  # doctest: +SKIP
    >>> result.ok, result.imported
    (True, 1200)
    """
    crs = normalise_crs(source_crs)
    try:
        frame, raw, encoding = _read(path_or_file)
    except pd.errors.ParserError as exc:
        return _file_error(str(exc))
    headers, missing = _canonical(frame)
    if missing:
        return ImportResult(errors=missing, error_count=len(missing))
    clean, errors, total = _validate(frame, headers)
    if total:
        return ImportResult(errors=errors, error_count=total)
    lon, lat = to_wgs84(clean["lon"], clean["lat"], crs)
    cells = _cells(frame, headers)
    columns = ", ".join(f"c{i} text" for i in range(len(frame.columns)))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_STAGING.format(columns=columns))
        names = ", ".join(f"c{i}" for i in range(len(frame.columns)))
        try:
            with transaction.atomic():
                cursor.cursor.copy_expert(f"COPY household_import_raw ({names}) FROM STDIN WITH "
                                          f"(FORMAT csv, HEADER true, ENCODING '{encoding}')", io.BytesIO(raw))
        except DataError as exc:
            transaction.set_rollback(True)
            return _file_error(str(exc).splitlines()[0])
        cursor.cursor.copy_expert("COPY household_import_point (id, lon, lat) FROM STDIN WITH (FORMAT binary)",
                                  _points_copy(lon, lat))
        for kind in ("phone", "id_number"):  # sealed, keyed by spreadsheet row like household_import_point
            sealed_fields.stage(cursor.cursor, f"household_import_{kind}", np.arange(2, len(lon) + 2),
                                clean[kind], kind)
        cursor.execute("SELECT count(*) FROM household_import_raw")
        if cursor.fetchone()[0] != len(frame):  # pandas and COPY must have seen the same rows
            transaction.set_rollback(True)
            return _file_error(_("文件的行数无法一致读取（请检查引号和换行）"))
        cursor.execute(_STAGING_INDEX)
        if "external_id" in headers:
            cursor.execute(_CONFLICTS.format(external=cells["external_id"]), [MAX_ERRORS])
            conflicts = [RowError(row, headers["external_id"], _("数据库中已有此外部编号"))
                         for (row,) in cursor.fetchall()]
            if conflicts:
                transaction.set_rollback(True)
                return ImportResult(errors=conflicts, error_count=len(conflicts))
        homes = homes_sql("household_import_point", from_polygons=True)
        large = bulk.worthwhile("gridmap_household", len(lon))
        with indexes_built_after("gridmap_household") if large else nullcontext(), \
                bulk.work_mem(BULK_WORK_MEM if large else None):
            cursor.execute(_INSERT.format(homes=homes, **cells), [crs])
            imported, in_grid = cursor.fetchone()
        cursor.execute("DROP TABLE household_import_raw, household_import_point, household_import_phone, "
                       "household_import_id_number")
        if not large:  # (a large import was analysed before its indexes were rebuilt)
            cursor.execute("ANALYZE gridmap_household")
    return ImportResult(imported=imported, in_grid=in_grid, without_grid=imported - in_grid)


def _file_error(reason: str) -> ImportResult:
    return ImportResult(errors=[RowError(1, "", reason)], error_count=1)
