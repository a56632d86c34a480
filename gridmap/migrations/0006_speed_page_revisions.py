"""Page revisions: one counter per grid, moved by triggers on every table that feeds a grid's page
(queries/grid_households.py) or a household layer (queries/layers.py), plus a global counter (grid_id 0)
for what may change any page's scope or nearest station (stations, staffing, members' logins,
communities, profiles) and for households in no grid.

Why triggers: the grid page is served from a per-worker cache whose key holds these counters; a writer
that forgot to invalidate would serve stale data, and triggers cannot be forgotten (ORM, raw SQL, COPY
loaders, rehoming, the admin). Statement-level triggers with transition tables: a bulk re-homing of a
million households costs one grouped upsert, not a million. Revisions come from one sequence, never
reused even after a rollback or a truncate, so a cached page can never match a different state.
"""
from django.db import migrations

# (table, SQL selecting the grid ids a changed row touches, from the transition table "rows")
_GRID_SOURCES = [
    # A household in no grid (a gap) moves the global counter: it shows on map layers by its box only.
    ("gridmap_household", "SELECT coalesce(grid_id, 0) FROM rows"),
    ("gridmap_grid", "SELECT id FROM rows"),
    ("gridmap_centralhousehold",
     "SELECT h.grid_id FROM rows JOIN gridmap_household h ON h.id = rows.household_id"),
    ("gridmap_centrallink",
     "SELECT h.grid_id FROM rows JOIN gridmap_household h ON h.id = rows.household_id"
     " UNION SELECT h.grid_id FROM rows JOIN gridmap_centralhousehold ch ON ch.id = rows.central_id"
     " JOIN gridmap_household h ON h.id = ch.household_id"),
]
_GLOBAL_SOURCES = ["gridmap_servicestation", "gridmap_gridassignment", "gridmap_member", "gridmap_community",
                   "gridmap_profile"]


def _forward() -> str:
    parts = ["""
CREATE SEQUENCE gridmap_pagerevision_seq;
CREATE TABLE gridmap_pagerevision (grid_id bigint PRIMARY KEY, revision bigint NOT NULL);
INSERT INTO gridmap_pagerevision VALUES (0, nextval('gridmap_pagerevision_seq'));
CREATE FUNCTION gridmap_bump_pages(grid_ids bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO gridmap_pagerevision (grid_id, revision)
    SELECT g, nextval('gridmap_pagerevision_seq')
      FROM (SELECT DISTINCT g FROM unnest(grid_ids) g WHERE g IS NOT NULL ORDER BY g) d
    ON CONFLICT (grid_id) DO UPDATE SET revision = EXCLUDED.revision
$$;
CREATE FUNCTION gridmap_bump_all_pages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE gridmap_pagerevision SET revision = nextval('gridmap_pagerevision_seq') WHERE grid_id = 0;
    RETURN NULL;
END $$;
"""]
    for table, select in _GRID_SOURCES:
        parts.append(f"""
CREATE FUNCTION {table}_bump_pages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM gridmap_bump_pages(ARRAY(SELECT * FROM ({select.replace('rows', 'changed_rows')}) s));
    RETURN NULL;
END $$;
CREATE TRIGGER {table}_pages_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_bump_pages();
CREATE TRIGGER {table}_pages_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_bump_pages();
CREATE TRIGGER {table}_pages_update_new AFTER UPDATE ON {table} REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_bump_pages();
CREATE TRIGGER {table}_pages_update_old AFTER UPDATE ON {table} REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_bump_pages();
CREATE TRIGGER {table}_pages_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION gridmap_bump_all_pages();
""")
    for table in _GLOBAL_SOURCES:
        parts.append(f"""
CREATE TRIGGER {table}_pages_all AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION gridmap_bump_all_pages();
""")
    return "".join(parts)


def _reverse() -> str:
    parts = [f"DROP TRIGGER {table}_pages_all ON {table};" for table in _GLOBAL_SOURCES]
    for table, _select in _GRID_SOURCES:
        parts += [f"DROP TRIGGER {table}_pages_{event} ON {table};"
                  for event in ("insert", "delete", "update_new", "update_old", "truncate")]
        parts.append(f"DROP FUNCTION {table}_bump_pages();")
    parts += ["DROP FUNCTION gridmap_bump_all_pages();", "DROP FUNCTION gridmap_bump_pages(bigint[]);",
              "DROP TABLE gridmap_pagerevision;", "DROP SEQUENCE gridmap_pagerevision_seq;"]
    return "\n".join(parts)


class Migration(migrations.Migration):

    dependencies = [
        ('gridmap', '0005_audit_append_only'),
    ]

    operations = [migrations.RunSQL(sql=_forward(), reverse_sql=_reverse())]
