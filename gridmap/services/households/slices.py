"""One household file, slice by slice: each slice validated, converted, placed, sealed and laid out for COPY.

services/households/importing.py streams the slices to PostgreSQL in file order. Two threads prepare them
(numpy, shapely, the AES batches and the coordinate conversion let go of the GIL for most of their
work: ~1.6x one thread on two cores), two slices ahead of the one being sent, so memory stays at a few
slices whatever the file's size. Whole-file checks (repeats across slices, the preview map) use the
columns :class:`SliceTotals` keeps.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.utils import translation
from django.utils.translation import gettext as _

from geodata.crs import to_wgs84
from geodata.homes import NONE, Areas, Points
from gridmap.services.households.copy_stream import household_fields, seal_slice
from gridmap.services.households.rows import MAX_ERRORS, RowError, duplicates, validate

CHUNK_ROWS = 100_000  # rows per slice (~40 MB of COPY data)
PREPARING_THREADS = 2
PREVIEW_POINTS = 5_000  # points drawn on the preview map
# GEOS prepared polygons build their search structures on first use, and pyproj transformers are not
# meant to be shared between threads: the conversion and the home lookup (~15 % of a slice) take turns.
_GEOMETRY = threading.Lock()


@dataclass
class PreparedSlice:
    start: int
    rows: dict
    errors: list[RowError]
    error_count: int
    problems: list[RowError] = field(default_factory=list)  # rows outside the importing user's communities
    secrets: dict | None = None
    new: list | None = None  # COPY fields of the rows that are new households
    update: list | None = None  # COPY fields (with id) of the rows that update a stored household


@dataclass
class SlicePlan:
    """Everything a slice needs, read once before the first one."""

    frame: pd.DataFrame
    headers: dict[str, str]
    crs: str
    grids: Areas
    communities: Areas
    scope: list[int] | None  # the importing user's communities; None: no restriction
    matched: np.ndarray  # per file row: the stored household its external id updates, or 0
    now: dt.datetime
    language: str | None = field(default_factory=translation.get_language)

    def prepare(self, start: int) -> PreparedSlice:
        with translation.override(self.language):  # row errors in the importing user's language
            rows, errors, total = validate(
                self.frame.iloc[start : start + CHUNK_ROWS], self.headers, first_row=start + 2
            )
            part = PreparedSlice(start, rows, errors, total)
            if total:
                return part
            with _GEOMETRY:
                lon, lat = to_wgs84(rows["lon"], rows["lat"], self.crs)
                points = Points(lon, lat)
                rows["grid"], rows["community"] = points.home(self.grids), points.home(self.communities)
            part.problems = self._outside_scope(rows, start)
            part.secrets = seal_slice(rows)
            if part.problems:
                return part
            household = self.matched[start : start + len(lon)]
            fresh = household == 0
            if fresh.any():
                part.new = household_fields(rows, part.secrets, lon, lat, self.crs, self.now, fresh)
            if not fresh.all():
                part.update = household_fields(rows, part.secrets, lon, lat, self.crs, self.now, ~fresh, ids=household)
            return part

    def _outside_scope(self, rows: dict, start: int) -> list[RowError]:
        """Rows that would land outside the importing user's communities (or in none)."""
        if self.scope is None:
            return []
        outside = np.flatnonzero(~np.isin(rows["community"], self.scope))
        return [
            RowError(
                int(i) + start + 2,
                self.headers["lon"],
                _("位置不在您管辖的社区范围内（请检查坐标和坐标系）"),
                "out_of_scope",
            )
            for i in outside[:MAX_ERRORS]
        ]

    def in_order(self):
        """The prepared slices in file order, prepared up to PREPARING_THREADS ahead."""
        starts = iter(range(0, len(self.frame), CHUNK_ROWS))
        with ThreadPoolExecutor(PREPARING_THREADS, thread_name_prefix="household-slice") as pool:
            pending = deque(pool.submit(self.prepare, start) for _, start in zip(range(PREPARING_THREADS), starts))
            try:
                while pending:
                    part = pending.popleft().result()
                    following = next(starts, None)
                    if following is not None:
                        pending.append(pool.submit(self.prepare, following))
                    yield part
            finally:
                for future in pending:
                    future.cancel()


class SliceTotals:
    """What the slices of one file add up to: row errors, the columns the whole-file checks need."""

    def __init__(self, n: int, headers: dict[str, str], crs: str):
        self.n, self.headers, self.crs = n, headers, crs
        self.error_list, self.error_count, self.in_grid = [], 0, 0
        self.problems: list[RowError] = []
        self.kept: dict[str, list[np.ndarray]] = {
            k: [] for k in ("lon", "lat", "id_number", "id_number_shaped", "external_id", "id_digest")
        }

    def add(self, part: PreparedSlice) -> None:
        self.error_list += part.errors
        self.error_count += part.error_count
        self.problems += part.problems
        for name in ("lon", "lat", "id_number", "id_number_shaped", "external_id"):
            self.kept[name].append(part.rows[name])
        if part.secrets is not None:
            self.in_grid += int(np.count_nonzero(part.rows["grid"] != NONE))
            self.kept["id_digest"].append(part.secrets["id_number"][2])

    @property
    def refused(self) -> bool:
        return bool(self.error_count or self.problems)

    def column(self, name: str) -> np.ndarray:
        parts = self.kept[name]
        return np.concatenate(parts) if parts else np.empty(0)

    def errors(self) -> tuple[list[RowError], int]:
        """Row errors of every slice and the repeats across the file, the first MAX_ERRORS in row order."""
        every = {name: self.column(name) for name in ("id_number", "id_number_shaped", "external_id")}
        repeated, repeats = duplicates(every, self.headers)
        found = sorted(self.error_list + repeated, key=lambda e: (e.row, e.column))
        return found[:MAX_ERRORS], self.error_count + repeats

    def preview(self) -> list[list[float]]:
        """Up to PREVIEW_POINTS valid points, evenly spread over the file, in WGS84, for the preview map."""
        lon, lat = self.column("lon"), self.column("lat")
        ok = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
        if len(ok) > PREVIEW_POINTS:
            ok = ok[np.linspace(0, len(ok) - 1, PREVIEW_POINTS).astype(np.int64)]
        if not len(ok):
            return []
        x, y = to_wgs84(lon[ok], lat[ok], self.crs)
        return np.round(np.column_stack([x, y]), 6).tolist()
