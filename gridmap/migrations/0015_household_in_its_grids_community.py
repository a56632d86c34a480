from django.db import migrations

# Why triggers: "a household's grid lies in its community" must hold whatever path writes a household (the
# admin, an import, a bulk load, raw SQL), not only the paths that remember the home rule. Statement-level with
# transition tables: one join per statement, so a bulk load or a re-homing of a million rows pays once.
FUNCTIONS = """
CREATE FUNCTION gridmap_household_in_its_grids_community() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad bigint;
BEGIN
    SELECT n.id INTO bad FROM new_rows n JOIN gridmap_grid g ON g.id = n.grid_id
     WHERE g.community_id IS DISTINCT FROM n.community_id LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'household % lies in a grid of another community', bad USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER gridmap_household_community_insert AFTER INSERT ON gridmap_household
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION gridmap_household_in_its_grids_community();
CREATE TRIGGER gridmap_household_community_update AFTER UPDATE ON gridmap_household
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION gridmap_household_in_its_grids_community();
"""

DROP = """
DROP TRIGGER gridmap_household_community_insert ON gridmap_household;
DROP TRIGGER gridmap_household_community_update ON gridmap_household;
DROP FUNCTION gridmap_household_in_its_grids_community();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("gridmap", "0014_audit_time_by_the_database"),
    ]

    operations = [migrations.RunSQL(FUNCTIONS, DROP)]
