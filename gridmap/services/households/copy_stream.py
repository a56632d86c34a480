"""Household rows in COPY's binary format, and the thread that streams them to PostgreSQL.

The import (services/households/importing.py) computes every column of a household in memory: the point
as EWKB, grid and community, the cleaned text, the sealed phone and ID number with their blind index
and masked form. This module lays them out as COPY records (storage/bulk.py) and sends them, slice by
slice, on the import's own connection and transaction, from a second thread: PostgreSQL writes one
slice on one core while the importing thread prepares the next on the other.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading

import numpy as np
import psycopg2

from geodata.homes import NONE
from gridmap.models.households import DETAIL_FIELDS
from gridmap.storage import bulk, sealed_fields

# The columns a new household is written with, in the order of household_fields (its id comes from
# the table's identity; resident_type and the care flags take their defaults for a new household).
COLUMNS = (
    "external_id",
    "location",
    "community_id",
    "grid_id",
    *DETAIL_FIELDS,
    "source_crs",
    "updated_at",
    "phone_sealed",
    "phone_digest",
    "phone_masked",
    "id_number_sealed",
    "id_number_digest",
    "id_number_masked",
)
SEALED = ("phone", "id_number")
_EWKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")])
_POSTGRES_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def seal_slice(rows: dict) -> dict:
    """Per sealed kind: (present mask, sealed (n, w) uint8, blind index (n, 16) uint8, masked (n,) bytes);
    rows without a value have zeros and an empty masked form."""
    secrets = {}
    for kind in SEALED:
        values = rows[kind]
        present = values != ""
        sealed = np.zeros((len(values), sealed_fields.SEALED_LENGTH[kind]), dtype=np.uint8)
        digest = np.zeros((len(values), 16), dtype=np.uint8)
        masked = np.zeros(len(values), dtype=f"S{sealed_fields.PLAIN_LENGTH[kind]}")
        if present.any():
            sealed[present], digest[present], masked[present] = sealed_fields.sealed_columns(kind, values[present])
        secrets[kind] = (present, sealed, digest, masked)
    return secrets


def household_fields(
    rows: dict,
    secrets: dict,
    lon: np.ndarray,
    lat: np.ndarray,
    crs: str,
    now: dt.datetime,
    chosen: np.ndarray,
    ids: np.ndarray | None = None,
) -> list:
    """The COPY columns (COLUMNS, after ``id`` when ``ids`` is given) of the ``chosen`` rows of a slice."""
    m = int(np.count_nonzero(chosen))
    if m == len(chosen):
        chosen = slice(None)  # every row (the usual case): views, not copies
    point = np.empty(m, dtype=_EWKB_POINT)
    point["order"], point["type"], point["srid"] = 1, 0x20000001, 4326  # little-endian EWKB with an SRID
    point["x"], point["y"] = lon[chosen], lat[chosen]
    external, grid, community = rows["external_id"][chosen], rows["grid"][chosen], rows["community"][chosen]
    fields = [] if ids is None else [bulk.fixed_field(ids[chosen].astype(">i8"))]
    fields += [
        bulk.text_field(external, null=external == ""),
        bulk.fixed_field(point),
        bulk.fixed_field(community.astype(">i8"), null=community == NONE),
        bulk.fixed_field(grid.astype(">i8"), null=grid == NONE),
        bulk.text_field(rows["address"][chosen]),
        bulk.text_field(rows["head_name"][chosen]),
        bulk.fixed_field(rows["residents"][chosen].astype(">i2")),
        _constant(b"permanent", m),
    ]
    fields += [_constant(b"\x00", m)] * 7  # the care flags: false
    micros = (now - _POSTGRES_EPOCH) // dt.timedelta(microseconds=1)
    fields += [_constant(crs.encode(), m), _constant(np.array(micros, ">i8").tobytes(), m)]
    for kind in SEALED:
        present, sealed, digest, masked = (part[chosen] for part in secrets[kind])
        masked_data, masked_lengths = bulk.fixed_field(masked)
        masked_lengths[~present] = 0  # no value: the empty masked form, not NULL
        fields += [
            bulk.fixed_field(sealed, null=~present),
            bulk.fixed_field(digest, null=~present),
            (masked_data, masked_lengths),
        ]
    return fields


def _constant(value: bytes, m: int):
    return np.broadcast_to(np.frombuffer(value, np.uint8), (m, len(value))), np.full(m, len(value), dtype=np.int32)


def stage_records(cursor, table: str, slices: list[list]) -> None:
    """A temporary table shaped like the household table, filled with the (id + COLUMNS) fields of
    ``slices`` by one binary COPY."""
    cursor.execute(f"CREATE TEMP TABLE {table} ON COMMIT DROP AS SELECT * FROM gridmap_household WITH NO DATA")
    cursor.cursor.copy_expert(
        f"COPY {table} (id, {', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT binary)",
        bulk.binary_stream([bulk.binary_records(fields) for fields in slices]),
    )


class _Aborted(Exception):
    pass


_ABORT = object()


class CopyStream(threading.Thread):
    """``COPY gridmap_household (COLUMNS) FROM STDIN`` fed slice by slice by the importing thread.

    Use as a context manager around the slices: leaving it normally ends the COPY; leaving it by an
    exception, or after :meth:`abort`, cancels it (the transaction is then failed and must roll back).
    The importing thread must not use the connection meanwhile. psycopg2 lets go of the GIL while it
    sends, so PostgreSQL's work overlaps the next slice's preparation.

    A row the table refuses (``refused``: a key or check violation) ends the COPY but not the
    slices: the importer goes on validating, and its row errors explain the refusal (e.g. an external
    id repeated further down the file); :meth:`raise_refusal` raises it when they do not. Any other
    error (a terminated session) is raised in the importing thread at its next send, or on leaving."""

    def __init__(self, raw_connection, table: str = "gridmap_household"):
        super().__init__(name="household-import-copy", daemon=True)
        self.raw, self.sql = raw_connection, f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT binary)"
        self.slices: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.aborted = self.started_data = False

    def __enter__(self) -> CopyStream:
        self.start()
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None or self.aborted:
            self.abort()
        else:
            self._put(bulk.COPY_HEADER + bulk.COPY_TRAILER if not self.started_data else bulk.COPY_TRAILER)
            self._put(b"")
        self.join()
        if kind is None and not self.aborted and self.error is not None and not self.refused:
            raise self.error

    @property
    def refused(self) -> bool:
        return isinstance(self.error, (psycopg2.IntegrityError, psycopg2.DataError))

    def raise_refusal(self) -> None:
        if self.refused:
            raise self.error

    def run(self) -> None:
        try:
            with self.raw.cursor() as cursor:
                cursor.copy_expert(self.sql, self)
        except BaseException as exc:  # handed to the importing thread
            self.error = exc

    def read(self, size: int = -1) -> bytes:
        item = self.slices.get()
        if item is _ABORT:
            raise _Aborted("the import was refused")
        # a slice's fields are laid out here, off the importing thread (numpy lets go of the GIL)
        return item if isinstance(item, bytes) else bulk.binary_records(item)

    def send(self, fields: list) -> None:
        """Queue one slice's rows (fields as :func:`household_fields` returns them)."""
        if self.aborted:
            return
        if not self.started_data:
            self._put(bulk.COPY_HEADER)
            self.started_data = True
        self._put(fields)

    def abort(self) -> None:
        if not self.aborted:
            self.aborted = True
            self._put(_ABORT)

    def _put(self, item) -> None:
        while True:
            if not self.is_alive():
                if self.error is not None and not self.aborted and not self.refused:
                    raise self.error
                return
            try:
                self.slices.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
