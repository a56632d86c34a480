"""Import households from a CSV or XLSX file: all or nothing, vectorised, loaded with COPY.

One core for every way in (the ``import_households`` command, the upload page and its worker, the
tests, the benchmark): read the file (services/household_files.py), validate every row at once, convert
coordinates to WGS84, COPY into a temporary staging table, then one INSERT ... SELECT that places each
household in its grid and community with the rule of :func:`gridmap.services.rehoming.homes_sql`.
Rows whose external id (外部编号) is already in the database update that household instead (a file
imported twice gives no duplicates). Any error saves nothing and comes back as (row, column, reason),
rows numbered as a spreadsheet shows them (the header is row 1). A dry run does all of it, database
checks included, and rolls back.
"""
from __future__ import annotations

import io
import threading
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import psycopg2
from django.db import connection, transaction
from django.utils.translation import gettext as _

from geodata.crs import to_wgs84
from gridmap import sealed_fields
from gridmap.services import bulk
from gridmap.services.household_files import UnreadableFile, read_bytes, read_table
from gridmap.services.bulk import indexes_built_after
from gridmap.services.household_rows import COLUMNS, MAX_ERRORS, RowError, canonical, declared_crs, validate
from gridmap.services.rehoming import homes_sql

PREVIEW_POINTS = 5_000   # points drawn on the preview map
BULK_HOMES_ROWS = 5_000  # from this many updated rows on, find their homes driven from the polygons
BULK_WORK_MEM = "256MB"   # the id-ordered sorts of a million-row import stay in memory (64MB spills to disk)
BLANK_SQL = "' ' || chr(9) || chr(13) || chr(10) || chr(12288) || chr(160)"


@dataclass
class ImportResult:
    imported: int = 0
    in_grid: int = 0
    without_grid: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    updated: int = 0        # rows whose external id was already there: that household was updated
    rows: int = 0           # household rows in the file
    points: list = field(default_factory=list)   # up to PREVIEW_POINTS [lon, lat] (WGS84) for the preview map

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def status(self) -> int:
        """The HTTP answer for a refusal: 409 when every error is a clash with the database, else 400."""
        if self.ok:
            return 200
        return 409 if all(e.code == "exists" for e in self.errors) else 400



def _points_copy(lon: np.ndarray, lat: np.ndarray) -> io.BytesIO:
    """(row, lon, lat) in COPY's binary format: exact doubles, no text to format or parse."""
    record = np.dtype([("fields", ">i2"), ("len_id", ">i4"), ("id", ">i4"), ("len_lon", ">i4"), ("lon", ">f8"),
                       ("len_lat", ">i4"), ("lat", ">f8")])
    rows = np.empty(len(lon), dtype=record)
    rows["fields"], rows["len_id"], rows["len_lon"], rows["len_lat"] = 3, 4, 8, 8
    rows["id"], rows["lon"], rows["lat"] = np.arange(2, len(lon) + 2), lon, lat
    return bulk.binary_copy(rows)


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
# Re-import: staged rows whose external id is already stored update that household (matched once,
# by the unique external_id index, into a small temp table) and are left out of the INSERT.
_MATCHES = """
CREATE TEMP TABLE household_import_match ON COMMIT DROP AS
SELECT r.n + 1 AS id, h.id AS household_id, h.community_id
  FROM household_import_raw r JOIN gridmap_household h ON h.external_id = {external};
ANALYZE household_import_match
"""
# Why SQL: an ID number another household already has (not the one this row updates) is refused;
# one hash join of the staged rows against the table.
# ID numbers are sealed at rest: the staged blind index (gridmap.sealed_fields) meets the stored one.
_ID_CLASHES = """
SELECT si.key FROM household_import_id_number si
  JOIN household_import_raw r ON r.n + 1 = si.key
  JOIN gridmap_household h ON h.id_number_digest = si.digest
 WHERE h.external_id IS DISTINCT FROM nullif({external_id}, '')
 ORDER BY si.key LIMIT %s
"""
_MATCH_OUT_OF_SCOPE = """
SELECT m.id FROM household_import_match m
 WHERE m.community_id IS NULL OR NOT m.community_id = ANY(%s) ORDER BY m.id LIMIT %s
"""
# A scoped import (street admin, community staff) computes the homes once into a temp table: the rows
# that land outside the user's communities are refused before anything is written.
_HOMES_TABLE = "CREATE TEMP TABLE household_import_home ON COMMIT DROP AS {homes}"
_HOME_OUT_OF_SCOPE = """
SELECT p.id FROM household_import_home p
 WHERE p.community_id IS NULL OR NOT p.community_id = ANY(%s) ORDER BY p.id LIMIT %s
"""
_NOT_MATCHED = "NOT EXISTS (SELECT 1 FROM household_import_match m WHERE m.id = p.id)"
_UPDATE = """
UPDATE gridmap_household h
   SET location = hm.location, community_id = hm.community_id, grid_id = hm.grid_id, address = {address},
       head_name = {head_name}, phone_sealed = sp.sealed, phone_digest = sp.digest,
       phone_masked = coalesce(sp.masked, ''), id_number_sealed = si.sealed, id_number_digest = si.digest,
       id_number_masked = coalesce(si.masked, ''),
       residents = coalesce(nullif({residents}, ''), '1')::numeric::integer, source_crs = %s, updated_at = now()
  FROM ({homes}) hm
  JOIN household_import_raw r ON r.n + 1 = hm.id
  JOIN household_import_match m ON m.id = hm.id
  LEFT JOIN household_import_phone sp ON sp.key = hm.id LEFT JOIN household_import_id_number si ON si.key = hm.id
 WHERE h.id = m.household_id
"""
# Why SQL: one INSERT ... SELECT places and stores every household (computing the grid while loading
# costs a fraction of an UPDATE afterwards; reference/performance.md). The cleaning repeats validate's
# (trim BLANK, default 1 resident) on the same cells; phones and ID numbers come sealed from their own
# staging tables (gridmap.sealed_fields.stage), never as plain text.
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
    """The CSV (or XLSX) file at ``path_or_file`` → :func:`import_households` (kept for the benchmark)."""
    return import_households(path_or_file, source_crs=source_crs)


def import_households(source, *, source_crs: str | None, filename: str = "", communities: list[int] | None = None,
                      dry_run: bool = False, progress=None) -> ImportResult:
    """Import the households of a CSV or XLSX file; all or nothing.

    Parameters
    ----------
    source : bytes, str, os.PathLike or binary file
        CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM or GBK) or XLSX with a header row: 经度/lon, 纬度/lat,
        地址/address, 户主/head_name (required), 电话/phone, 身份证号/id_number, 人数/residents,
        外部编号/external_id (optional). A row whose 外部编号 is already stored updates that household.
    source_crs : str or None
        The coordinate system of the file: 'WGS84', 'CGCS2000', 'GCJ02' (高德/腾讯) or 'BD09' (百度); may
        be None when the file has a 坐标系 column (one system for the whole file). Neither: refused.
    filename : str
        The uploaded name (only its extension is looked at: an ``.xlsx`` that is no zip is refused).
    communities : list of int, optional
        The communities the importing user may write to; every household must land in one of them, and
        every household a row updates must be in one. None: no restriction (system admin, command line).
    dry_run : bool
        Do everything, database checks and writes included, then roll back: the preview.
    progress : callable(stage: str, fraction: float), optional
        Told of each step (read, validate, convert, copy, check, write, done).

    Returns
    -------
    ImportResult
        Counts of new households (``imported``), updated ones and those placed in a grid; with any
        error, ``errors`` lists (row, column, reason) (the first :data:`MAX_ERRORS`), ``error_count``
        all of them, and nothing is saved.

    Examples
    --------
    >>> result = import_households("households.xlsx", source_crs="GCJ02")  # doctest: +SKIP
    >>> result.ok, result.imported, result.updated
    (True, 1200, 0)
    """
    tell = progress or (lambda stage, fraction: None)
    tell("read", 0.02)
    try:
        table = read_table(read_bytes(source), filename)
    except UnreadableFile as exc:
        return _file_error(exc.reason)
    frame = table.frame
    headers, missing = canonical(frame)
    if missing:
        return ImportResult(errors=missing, error_count=len(missing), rows=len(frame))
    crs, crs_errors = declared_crs(frame, headers, source_crs)
    if crs_errors:
        return ImportResult(errors=crs_errors, error_count=len(crs_errors), rows=len(frame))
    cells = _cells(frame, headers)
    columns = ", ".join(f"c{i} text" for i in range(len(frame.columns)))
    with transaction.atomic(), connection.cursor() as cursor:
        tell("copy", 0.1)
        cursor.execute(_STAGING.format(columns=columns))
        names = ", ".join(f"c{i}" for i in range(len(frame.columns)))
        raw_copy = _RawCopy(connection.connection, f"COPY household_import_raw ({names}) FROM STDIN WITH "
                            f"(FORMAT csv, HEADER true, ENCODING '{table.encoding}')", table.csv)
        raw_copy.start()   # PostgreSQL parses the file while Python validates the same rows
        tell("validate", 0.15)
        try:
            clean, errors, total = validate(frame, headers)
            points = _preview(clean["lon"], clean["lat"], crs)
            if not total:
                tell("convert", 0.3)
                lon, lat = to_wgs84(clean["lon"], clean["lat"], crs)
        finally:
            copy_error = raw_copy.outcome()
        if total:
            transaction.set_rollback(True)
            return ImportResult(errors=errors, error_count=total, rows=len(frame), points=points)
        if copy_error is not None:
            transaction.set_rollback(True)
            return _file_error(str(copy_error).splitlines()[0])
        cursor.cursor.copy_expert("COPY household_import_point (id, lon, lat) FROM STDIN WITH (FORMAT binary)",
                                  _points_copy(lon, lat))
        for kind in ("phone", "id_number"):  # sealed, keyed by spreadsheet row like household_import_point
            sealed_fields.stage(cursor.cursor, f"household_import_{kind}", np.arange(2, len(lon) + 2),
                                clean[kind], kind)
        cursor.execute("SELECT count(*) FROM household_import_raw")
        if cursor.fetchone()[0] != len(frame):  # pandas and COPY must have seen the same rows
            transaction.set_rollback(True)
            return _file_error(_("文件的行数无法一致读取（请检查引号和换行）"))
        tell("check", 0.5)
        cursor.execute(_STAGING_INDEX)
        problems = _database_checks(cursor, cells, headers, communities)
        if problems:
            transaction.set_rollback(True)
            return ImportResult(errors=problems[:MAX_ERRORS], error_count=len(problems), rows=len(frame),
                                points=points)
        cursor.execute("SELECT count(*) FROM household_import_match")
        matched = cursor.fetchone()[0]
        tell("write", 0.6)
        fresh = _NOT_MATCHED if matched else "TRUE"   # (a first import: no anti-join in the grid probes)
        homes = (f"SELECT * FROM household_import_home p WHERE {fresh}" if communities is not None
                 else homes_sql("household_import_point", fresh, from_polygons=True))
        large = not dry_run and bulk.worthwhile("gridmap_household", len(lon) - matched)
        if matched:
            matched_homes = ("SELECT * FROM household_import_home" if communities is not None else homes_sql(
                "household_import_point", "p.id IN (SELECT id FROM household_import_match)",
                from_polygons=matched > BULK_HOMES_ROWS))
            with bulk.work_mem(BULK_WORK_MEM if matched > BULK_HOMES_ROWS else None):
                cursor.execute(_UPDATE.format(homes=matched_homes, **cells), [crs])
        with indexes_built_after("gridmap_household") if large else nullcontext(), \
                bulk.work_mem(BULK_WORK_MEM if large else None):
            cursor.execute(_INSERT.format(homes=homes, **cells), [crs])
            imported, in_grid = cursor.fetchone()
        if matched:
            cursor.execute("SELECT count(*) FROM gridmap_household h JOIN household_import_match m"
                           " ON h.id = m.household_id WHERE h.grid_id IS NOT NULL")
            in_grid += cursor.fetchone()[0]
        cursor.execute("DROP TABLE IF EXISTS household_import_raw, household_import_point, household_import_match,"
                       " household_import_home, household_import_phone, household_import_id_number")
        if dry_run:
            transaction.set_rollback(True)
        elif not large:  # (a large import was analysed before its indexes were rebuilt)
            cursor.execute("ANALYZE gridmap_household")
    tell("done", 1.0)
    total_rows = imported + matched
    return ImportResult(imported=imported, updated=matched, in_grid=in_grid, without_grid=total_rows - in_grid,
                        rows=len(frame), points=points)


class _RawCopy(threading.Thread):
    """COPY the file's own bytes into household_import_raw on the import's connection (same transaction)
    while the calling thread validates: PostgreSQL parses in its own process and psycopg2 lets go of the
    GIL while it sends, so on two cores the COPY costs no wall-clock time. The calling thread must not
    use the connection until :meth:`outcome` returns. A refused file (wrong encoding, bad quoting) comes
    back as the error; anything else (a terminated session) is raised."""

    def __init__(self, raw_connection, sql: str, data: bytes):
        super().__init__(name="household-import-copy", daemon=True)
        self.raw, self.sql, self.data, self.error = raw_connection, sql, data, None

    def run(self) -> None:
        try:
            with self.raw.cursor() as cursor:
                cursor.copy_expert(self.sql, io.BytesIO(self.data), size=1 << 20)
        except psycopg2.Error as exc:
            self.error = exc

    def outcome(self) -> psycopg2.DataError | None:
        self.join()
        if self.error is not None and not isinstance(self.error, psycopg2.DataError):
            raise self.error
        return self.error


def _database_checks(cursor, cells: dict[str, str], headers: dict[str, str],
                     communities: list[int] | None) -> list[RowError]:
    """Row errors only the database can find: ID numbers other households hold, and (for a scoped
    user) households that would land, or already live, outside the user's communities."""
    problems = []
    cursor.execute(_MATCHES.format(external=cells["external_id"]) if "external_id" in headers else
                   "CREATE TEMP TABLE household_import_match (id integer, household_id bigint, community_id bigint)"
                   " ON COMMIT DROP")
    if "id_number" in headers:
        cursor.execute(_ID_CLASHES.format(**cells), [MAX_ERRORS])
        problems += [RowError(row, headers["id_number"], _("数据库中已有此身份证号（属于另一户）"), "exists")
                     for (row,) in cursor.fetchall()]
    if communities is not None:
        cursor.execute(_MATCH_OUT_OF_SCOPE, [communities, MAX_ERRORS])
        problems += [RowError(row, headers["external_id"], _("此外部编号属于您管辖范围以外的住户"), "out_of_scope")
                     for (row,) in cursor.fetchall()]
        cursor.execute(_HOMES_TABLE.format(homes=homes_sql("household_import_point", from_polygons=True)))
        cursor.execute(_HOME_OUT_OF_SCOPE, [communities, MAX_ERRORS])
        problems += [RowError(row, headers["lon"], _("位置不在您管辖的社区范围内（请检查坐标和坐标系）"),
                              "out_of_scope") for (row,) in cursor.fetchall()]
    problems.sort(key=lambda e: (e.row, e.column))
    return problems


def _preview(lon: np.ndarray, lat: np.ndarray, crs: str) -> list[list[float]]:
    """Up to PREVIEW_POINTS valid points, evenly spread over the file, in WGS84, for the preview map."""
    ok = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if len(ok) > PREVIEW_POINTS:
        ok = ok[np.linspace(0, len(ok) - 1, PREVIEW_POINTS).astype(np.int64)]
    if not len(ok):
        return []
    x, y = to_wgs84(lon[ok], lat[ok], crs)
    return np.round(np.column_stack([x, y]), 6).tolist()


def _file_error(reason: str) -> ImportResult:
    return ImportResult(errors=[RowError(1, "", reason, "file")], error_count=1)
