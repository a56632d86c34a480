"""Import households from a CSV or XLSX file: all or nothing, vectorised, streamed with COPY.

One core for every way in (the ``import_households`` command, the upload page and its worker, the
tests, the benchmark). The file is read (services/households/files.py), then taken in slices
(services/households/slices.py, two threads): each slice is validated, converted to WGS84, placed in its
grid and community (the home rule, geodata/homes.py, on the polygons read once), its phones and ID
numbers are sealed, and its rows go out in COPY's binary format straight into the household table
(services/households/copy_stream.py), while PostgreSQL writes one slice and the threads prepare the next. Rows
whose external id (外部编号) is already stored update that household instead (a file imported twice
gives no duplicates).

Any error saves nothing (everything runs in one transaction, which a refusal rolls back) and comes back
as (row, column, reason), rows numbered as a spreadsheet shows them (the header is row 1). A dry run
does all of it, database checks included, and rolls back.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils.translation import gettext as _

from geodata.homes import NONE
from gridmap.services.grids.rehoming import home_areas
from gridmap.services.households.copy_stream import CopyStream, stage_records
from gridmap.services.households.files import UnreadableFile, read_bytes, read_table
from gridmap.services.households.rows import BLANK, MAX_ERRORS, RowError, canonical, declared_crs
from gridmap.services.households.slices import SlicePlan, SliceTotals
from gridmap.storage import bulk

# Re-import: the stored households that have one of the file's external ids (a hashed array probe).
# Only households in the importer's scope are looked at (NULL: the system admin's, everywhere): whether a key
# exists elsewhere must not change the answer (no existence oracle across scopes, docs/security.md).
_EXISTING = """
SELECT h.external_id, h.id, h.community_id FROM gridmap_household h
 WHERE h.external_id = ANY(%s) AND (%s::bigint[] IS NULL OR h.community_id = ANY(%s::bigint[]))
"""
# Why SQL: an ID number another household of the importer's scope held before this import (not the one a row
# updates) is refused (one held elsewhere is not looked at, as above); the file's blind indexes
# (gridmap.storage.sealed_fields) meet the stored ones in one hash join.
_ID_CLASHES = """
SELECT s.key FROM household_import_id s JOIN gridmap_household h ON h.id_number_digest = s.digest
 WHERE h.id <= %s AND (s.external_id IS NULL OR h.external_id IS DISTINCT FROM s.external_id)
   AND (%s::bigint[] IS NULL OR h.community_id = ANY(%s::bigint[]))
 ORDER BY s.key LIMIT %s
"""
# Re-import: the matched rows, staged in the household table's own shape, update their households.
_UPDATE = """
UPDATE gridmap_household h
   SET location = u.location, community_id = u.community_id, grid_id = u.grid_id, address = u.address,
       head_name = u.head_name, phone_sealed = u.phone_sealed, phone_digest = u.phone_digest,
       phone_masked = u.phone_masked, id_number_sealed = u.id_number_sealed,
       id_number_digest = u.id_number_digest, id_number_masked = u.id_number_masked,
       residents = u.residents, source_crs = u.source_crs, updated_at = u.updated_at
  FROM household_import_update u WHERE h.id = u.id
"""


@dataclass
class ImportResult:
    imported: int = 0
    in_grid: int = 0
    without_grid: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    updated: int = 0  # rows whose external id was already there: that household was updated
    rows: int = 0  # household rows in the file
    points: list = field(default_factory=list)  # up to PREVIEW_POINTS [lon, lat] (WGS84) for the preview map

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def status(self) -> int:
        """The HTTP answer for a refusal: 409 when every error is a clash with the database, else 400."""
        if self.ok:
            return 200
        return 409 if all(e.code == "exists" for e in self.errors) else 400


class _Refused(Exception):
    """Leaves the transaction (rolling it back, and skipping the index rebuild) with ``result``."""

    def __init__(self, result: ImportResult):
        super().__init__("refused")
        self.result = result


def import_households_csv(path_or_file, *, source_crs: str) -> ImportResult:
    """The CSV (or XLSX) file at ``path_or_file`` → :func:`import_households` (kept for the benchmark)."""
    return import_households(path_or_file, source_crs=source_crs)


def import_households(
    source,
    *,
    source_crs: str | None,
    filename: str = "",
    communities: list[int] | None = None,
    dry_run: bool = False,
    progress=None,
) -> ImportResult:
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
        Told of each step (read, check, validate, write, done).

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
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            result = _load(cursor, frame, headers, crs, communities, dry_run, tell)
            if dry_run:
                raise _Refused(result)
    except _Refused as refusal:
        return refusal.result
    tell("done", 1.0)
    return result


def _load(
    cursor, frame: pd.DataFrame, headers: dict[str, str], crs: str, communities: list[int] | None, dry_run: bool, tell
) -> ImportResult:
    """The import inside its transaction: raises _Refused with the row errors of a refused file."""
    n = len(frame)
    tell("check", 0.05)
    matched = _Matches.find(cursor, frame, headers, communities)
    grids, community_areas = home_areas(cursor)
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM gridmap_household WHERE id_number_digest IS NOT NULL),"
        " coalesce(max(id), 0), now() FROM gridmap_household"
    )
    digests_stored, last_id_before, now = cursor.fetchone()
    large = not dry_run and bulk.worthwhile("gridmap_household", n - matched.count)
    plan = SlicePlan(frame, headers, crs, grids, community_areas, communities, matched.household, now)
    totals, updates = SliceTotals(n, headers, crs), []
    with bulk.indexes_built_after("gridmap_household") if large else nullcontext():
        savepoint = transaction.savepoint()  # an aborted COPY fails the transaction: back to here, then check
        with CopyStream(connection.connection) as stream:  # PostgreSQL writes a slice while Python prepares the next
            tell("validate", 0.1)  # (the first slices are being prepared)
            for part in plan.in_order():
                totals.add(part)
                if totals.refused:  # the remaining slices are only checked, for the error list
                    stream.abort()
                    continue
                tell("write", 0.1 + 0.75 * (part.start + len(part.rows["lon"])) / n)
                if part.new:
                    stream.send(part.new)
                if part.update:
                    updates.append(part.update)
            errors, total = totals.errors()  # the whole-file checks, while PostgreSQL writes the last slice
            preview = totals.preview()
            if total:
                stream.abort()
        if stream.aborted or stream.refused:
            transaction.savepoint_rollback(savepoint)
        if total:
            raise _Refused(ImportResult(errors=errors, error_count=total, rows=n, points=preview))
        tell("check", 0.9)
        problems = totals.problems
        if digests_stored and "id_number" in headers:
            problems += _id_clashes(cursor, totals, headers, last_id_before, communities)
        stream.raise_refusal()  # the table refused a row no check above explains
        if problems:
            problems.sort(key=lambda e: (e.row, e.column))
            raise _Refused(
                ImportResult(errors=problems[:MAX_ERRORS], error_count=len(problems), rows=n, points=preview)
            )
        if updates:
            stage_records(cursor, "household_import_update", updates)
            cursor.execute(_UPDATE)
            cursor.execute("DROP TABLE household_import_update")
    if not large and not dry_run:  # (a large import was analysed before its indexes were rebuilt)
        cursor.execute("ANALYZE gridmap_household")
    return ImportResult(
        imported=n - matched.count,
        updated=matched.count,
        in_grid=totals.in_grid,
        without_grid=n - totals.in_grid,
        rows=n,
        points=preview,
    )


@dataclass
class _Matches:
    """Rows whose external id is already stored: that household's id (0: a new household) and community."""

    household: np.ndarray
    community: np.ndarray
    count: int

    @classmethod
    def find(cls, cursor, frame: pd.DataFrame, headers: dict[str, str], communities: list[int] | None) -> _Matches:
        n = len(frame)
        household, community = np.zeros(n, dtype=np.int64), np.full(n, NONE, dtype=np.int64)
        if "external_id" not in headers:
            return cls(household, community, 0)
        cursor.execute("SELECT EXISTS (SELECT 1 FROM gridmap_household WHERE external_id IS NOT NULL)")
        if not cursor.fetchone()[0]:  # nothing to match (a first import): no million-element probe
            return cls(household, community, 0)
        external = frame[headers["external_id"]].astype(str).str.strip(BLANK)
        cursor.execute(_EXISTING, [list(external[external != ""].unique()), communities, communities])
        stored = pd.DataFrame(cursor.fetchall(), columns=["external_id", "id", "community"])
        if stored.empty:
            return cls(household, community, 0)
        position = pd.Index(stored["external_id"]).get_indexer(external.to_numpy())
        found = position >= 0
        household[found] = stored["id"].to_numpy()[position[found]]
        community[found] = stored["community"].fillna(NONE).to_numpy(dtype=np.int64)[position[found]]
        return cls(household, community, int(found.sum()))


def _id_clashes(
    cursor, slices: SliceTotals, headers: dict[str, str], last_id_before: int, communities: list[int] | None
) -> list[RowError]:
    ids, external = slices.column("id_number"), slices.column("external_id")
    present = np.flatnonzero(ids != "")
    if not len(present):
        return []
    fields = [
        bulk.fixed_field((present + 2).astype(">i4")),
        bulk.fixed_field(slices.column("id_digest")[present]),
        bulk.text_field(external[present], null=external[present] == ""),
    ]
    cursor.execute("CREATE TEMP TABLE household_import_id (key integer, digest bytea, external_id text) ON COMMIT DROP")
    cursor.cursor.copy_expert(
        "COPY household_import_id FROM STDIN WITH (FORMAT binary)", bulk.binary_stream([bulk.binary_records(fields)])
    )
    cursor.execute(_ID_CLASHES, [last_id_before, communities, communities, MAX_ERRORS])
    clashes = [
        RowError(row, headers["id_number"], _("数据库中已有此身份证号（属于另一户）"), "exists")
        for (row,) in cursor.fetchall()
    ]
    cursor.execute("DROP TABLE household_import_id")
    return clashes


def _file_error(reason: str) -> ImportResult:
    return ImportResult(errors=[RowError(1, "", reason, "file")], error_count=1)
