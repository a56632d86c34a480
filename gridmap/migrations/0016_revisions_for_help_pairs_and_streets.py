"""Page revisions also move for help pairs (per grid, through the household) and streets (globally): the
planner's aggregates (coverage per grid and area, heat cells) are cached under these counters
(queries/aggregate_cache.py), and "vulnerable and without support" depends on open help pairs, the street
level of the area sums on the street's name. Same statement-level triggers as migration 0006."""

from django.db import migrations

_SELECT = "SELECT h.grid_id FROM changed_rows JOIN gridmap_household h ON h.id = changed_rows.household_id"

_FORWARD = f"""
CREATE FUNCTION gridmap_helppair_bump_pages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM gridmap_bump_pages(ARRAY({_SELECT}));
    RETURN NULL;
END $$;
CREATE TRIGGER gridmap_helppair_pages_insert AFTER INSERT ON gridmap_helppair REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION gridmap_helppair_bump_pages();
CREATE TRIGGER gridmap_helppair_pages_delete AFTER DELETE ON gridmap_helppair REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION gridmap_helppair_bump_pages();
CREATE TRIGGER gridmap_helppair_pages_update AFTER UPDATE ON gridmap_helppair REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION gridmap_helppair_bump_pages();
CREATE TRIGGER gridmap_helppair_pages_truncate AFTER TRUNCATE ON gridmap_helppair
    FOR EACH STATEMENT EXECUTE FUNCTION gridmap_bump_all_pages();
CREATE TRIGGER gridmap_street_pages_all AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON gridmap_street
    FOR EACH STATEMENT EXECUTE FUNCTION gridmap_bump_all_pages();
"""

_REVERSE = """
DROP TRIGGER gridmap_street_pages_all ON gridmap_street;
DROP TRIGGER gridmap_helppair_pages_truncate ON gridmap_helppair;
DROP TRIGGER gridmap_helppair_pages_update ON gridmap_helppair;
DROP TRIGGER gridmap_helppair_pages_delete ON gridmap_helppair;
DROP TRIGGER gridmap_helppair_pages_insert ON gridmap_helppair;
DROP FUNCTION gridmap_helppair_bump_pages();
"""


class Migration(migrations.Migration):
    dependencies = [("gridmap", "0015_household_in_its_grids_community")]

    operations = [migrations.RunSQL(sql=_FORWARD, reverse_sql=_REVERSE)]
