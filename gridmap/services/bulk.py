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

BULK_MIN_ROWS = 50_000   # below this, the lock and the rebuild are not worth it
BULK_MAX_EXISTING = 4    # rebuild only while the table holds at most this many times the new rows

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


@contextmanager
def work_mem(value: str | None):
    """Raise work_mem for the body (inside a transaction), then put the previous value back."""
    if value is None:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('work_mem')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('work_mem', %s, true)", [value])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [previous])


def binary_copy(records: np.ndarray) -> io.BytesIO:
    """A numpy structured array of COPY binary tuples (an ``>i2`` field count, then ``>i4`` length + value per
    column) framed as a ``COPY ... FROM STDIN WITH (FORMAT binary)`` stream: no text to format or parse."""
    header = b"PGCOPY\n\xff\r\n\x00" + np.array([0, 0], dtype=">i4").tobytes()
    return io.BytesIO(header + records.tobytes() + np.array([-1], dtype=">i2").tobytes())
