"""Bulk writes: build a table's plain indexes and check its foreign keys once, after the rows are in.

Inserting a million households into a table that keeps a GiST, four btree indexes and two deferred
foreign keys costs ~45 µs a row (index maintenance, then one key lookup per row and key at commit);
building the indexes afterwards and validating each key with one anti-join costs a few µs a row
(docs/performance.md). The definitions are read from the catalog, so they stay exactly what the
migrations created; everything happens inside the caller's transaction, so a failure restores them.
The price is an ACCESS EXCLUSIVE lock on the table until commit: only for loads that are large
compared with the table (:func:`worthwhile`).
"""

from __future__ import annotations

import io
from contextlib import contextmanager

import numpy as np
from django.db import connection

BULK_MIN_ROWS = 50_000  # below this, the lock and the rebuild are not worth it
BULK_MAX_EXISTING = 4  # rebuild only while the table holds at most this many times the new rows

_PLAIN_INDEXES = """
SELECT i.relname, pg_get_indexdef(x.indexrelid)
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
 WHERE x.indrelid = %s::regclass
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
 ORDER BY i.relname
"""
# Foreign keys of the table, and unique constraints no foreign key depends on (the primary key stays).
_CONSTRAINTS = """
SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
 WHERE c.conrelid = %s::regclass
   AND (c.contype = 'f' OR (c.contype = 'u' AND NOT EXISTS (
        SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)))
 ORDER BY c.contype DESC, c.conname
"""


def worthwhile(table: str, new_rows: int) -> bool:
    """Whether loading ``new_rows`` into ``table`` is cheaper with indexes built afterwards."""
    if new_rows < BULK_MIN_ROWS:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        estimate = cursor.fetchone()[0]
        if estimate < 0:  # never analysed (or just truncated): count
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            estimate = cursor.fetchone()[0]
    return estimate <= BULK_MAX_EXISTING * new_rows


@contextmanager
def indexes_built_after(table: str):
    """Drop ``table``'s plain indexes, foreign keys and unique constraints (not the primary key), run
    the body, then recreate them as they were. Must run inside ``transaction.atomic()``.

    PostgreSQL refuses to alter a table with deferred checks pending, so those run first (they would
    at COMMIT anyway); afterwards every deferrable constraint is deferred again, which is how Django
    creates its foreign keys (DEFERRABLE INITIALLY DEFERRED).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("indexes_built_after() must run inside transaction.atomic()")
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(_PLAIN_INDEXES, [table])
        indexes = cursor.fetchall()
        cursor.execute(_CONSTRAINTS, [table])
        constraints = cursor.fetchall()
        for name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {qn(name)}")
    yield
    with connection.cursor() as cursor:
        # Fresh statistics first: each key below is checked by one anti-join, and with the figures of
        # before the load (e.g. every grid_id NULL) PostgreSQL plans it as a nested loop: minutes, not a second.
        cursor.execute(f"ANALYZE {qn(table)}")
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in reversed(constraints):  # foreign keys: one anti-join each, not a row at a time
            cursor.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
COPY_TRAILER = b"\xff\xff"  # a field count of -1


def binary_copy(records: np.ndarray) -> io.BytesIO:
    """A numpy structured array of COPY binary tuples (an ``>i2`` field count, then ``>i4`` length + value per
    column) framed as a ``COPY ... FROM STDIN WITH (FORMAT binary)`` stream: no text to format or parse."""
    return binary_stream([records.tobytes()])


def binary_stream(chunks: list[bytes]) -> io.BytesIO:
    """Chunks of binary COPY records (see :func:`binary_records`) framed as one COPY stream."""
    return io.BytesIO(b"".join([COPY_HEADER, *chunks, COPY_TRAILER]))


def fixed_field(values: np.ndarray, null: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A column of fixed-width values (big-endian numbers, or an (n, w) uint8 array of bytes) for
    :func:`binary_records`; rows where ``null`` is true are sent as NULL."""
    values = np.ascontiguousarray(values)
    data = values.view(np.uint8).reshape(len(values), values.dtype.itemsize * int(np.prod(values.shape[1:])))
    lengths = np.full(len(values), data.shape[1], dtype=np.int32)
    if null is not None:
        lengths[null] = -1
    return data, lengths


def text_field(values: np.ndarray, null: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A column of text (strings without NUL characters) as UTF-8, for :func:`binary_records`.

    The strings are joined with NUL and encoded in one call, then cut at the NULs (numpy's per-string
    ``np.strings.encode`` is ~20x slower)."""
    strings = np.asarray(values, dtype=np.dtypes.StringDType()).tolist()
    if not strings:
        return np.zeros((0, 1), dtype=np.uint8), np.zeros(0, dtype=np.int32)
    blob = np.frombuffer(("\x00".join(strings) + "\x00").encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(blob == 0)
    if len(ends) != len(strings):
        raise ValueError("text with NUL characters cannot be sent to PostgreSQL")
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    lengths = (ends - starts).astype(np.int32)
    width = max(int(lengths.max(initial=0)), 1)
    data = blob[np.minimum(starts[:, None] + np.arange(width), len(blob) - 1)]  # past a value's end: masked out
    if null is not None:
        lengths[null] = -1
    return data, lengths


def binary_records(fields: list[tuple[np.ndarray, np.ndarray]]) -> bytes:
    """Rows of COPY's binary format from columns of (data (n, w) uint8, lengths (n,) int32, -1 = NULL).

    Vectorised for variable widths: every column is laid out padded to its widest value, one row per
    line of a 2D byte array, and a mask of the bytes that are real keeps them in row order. ~0.2 s for
    100,000 households; building the rows one at a time in Python costs ten times that."""
    n = len(fields[0][1]) if fields else 0
    width = 2 + sum(4 + data.shape[1] for data, _ in fields)
    rows, real = np.empty((n, width), dtype=np.uint8), np.ones((n, width), dtype=bool)
    rows[:, :2] = np.frombuffer(np.array(len(fields), ">i2").tobytes(), np.uint8)
    at = 2
    for data, lengths in fields:
        w = data.shape[1]
        rows[:, at : at + 4] = lengths.astype(">i4").view(np.uint8).reshape(n, 4)
        rows[:, at + 4 : at + 4 + w] = data
        if not (lengths == w).all():
            np.less(np.arange(w), lengths[:, None], out=real[:, at + 4 : at + 4 + w])
        at += 4 + w
    return rows[real].tobytes()
