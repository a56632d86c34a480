"""Key rotation for personal data sealed at rest: open every sealed value with whichever key sealed it and
seal it again under the current key; digests are recomputed too (the blind-index key follows the data key
unless GRIDMAP_INDEX_KEY is set). One transaction, the tables locked against writes meanwhile."""

from __future__ import annotations

from django.db import connection, transaction

from gridmap.storage import sealed_fields

SEALED = {"gridmap_household": ("phone", "id_number"), "gridmap_member": ("phone",)}
CHUNK = 50_000


@transaction.atomic
def reseal_all() -> dict[str, int]:
    """Returns the number of values resealed per ``table.kind``. Raises SealError if a key is missing."""
    counts = {}
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE " + ", ".join(SEALED) + " IN SHARE ROW EXCLUSIVE MODE")
        for table, kinds in SEALED.items():
            for kind in kinds:
                cursor.execute(f"SELECT id, {kind}_sealed FROM {table} WHERE {kind}_sealed IS NOT NULL ORDER BY id")
                rows = cursor.fetchall()
                for start in range(0, len(rows), CHUNK):
                    part = rows[start : start + CHUNK]
                    values = [sealed_fields.unseal(kind, sealed) for _id, sealed in part]
                    # Why SQL: one UPDATE per chunk from arrays instead of a save() per row.
                    cursor.execute(
                        f"UPDATE {table} t SET {kind}_sealed = u.s, {kind}_digest = u.d, {kind}_masked = u.m"
                        " FROM unnest(%s::bigint[], %s::bytea[], %s::bytea[], %s::text[]) AS u(id, s, d, m)"
                        " WHERE t.id = u.id",
                        [
                            [row_id for row_id, _s in part],
                            sealed_fields.seal_many(kind, values),
                            sealed_fields.digest_many(kind, values),
                            sealed_fields.mask_many(kind, values).tolist(),
                        ],
                    )
                counts[f"{table}.{kind}"] = len(rows)
    return counts
