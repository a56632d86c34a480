# Domain rules that SQL needs, defined once in the database (issue #14): the vulnerable household as a stored
# generated column, and SQL functions for the masked head-of-household name, a grid's working shape, a grid's
# pending state and a household without support. The functions are LANGUAGE sql with a single expression so
# the planner inlines them (no call per row); gridmap_without_support has sub-selects and runs per row, on
# the few uncovered vulnerable households only. tests/test_domain_sql_rules.py checks each against its twin.

from django.db import migrations, models

FUNCTIONS = """
CREATE OR REPLACE FUNCTION gridmap_masked_name(name text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN coalesce(name, '') = '' THEN ''
                      ELSE left(name, 1) || repeat('*', greatest(char_length(name) - 1, 1)) END $$;

CREATE OR REPLACE FUNCTION gridmap_working_shape(boundary geometry, draft_boundary geometry) RETURNS geometry
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(draft_boundary, boundary) $$;

CREATE OR REPLACE FUNCTION gridmap_grid_pending(status text, draft_boundary geometry, retire_on_publish boolean)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT status = 'draft' OR draft_boundary IS NOT NULL OR retire_on_publish $$;

CREATE OR REPLACE FUNCTION gridmap_without_support(household_id bigint) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NOT EXISTS (SELECT 1 FROM gridmap_centralhousehold c
                              WHERE c.household_id = $1 AND c.active)
             AND NOT EXISTS (SELECT 1 FROM gridmap_centrallink l
                               JOIN gridmap_centralhousehold c ON c.id = l.central_id AND c.active
                              WHERE l.household_id = $1)
             AND NOT EXISTS (SELECT 1 FROM gridmap_helppair p WHERE p.household_id = $1 AND p.end_date IS NULL) $$;
"""

DROP = """
DROP FUNCTION IF EXISTS gridmap_masked_name(text);
DROP FUNCTION IF EXISTS gridmap_working_shape(geometry, geometry);
DROP FUNCTION IF EXISTS gridmap_grid_pending(text, geometry, boolean);
DROP FUNCTION IF EXISTS gridmap_without_support(bigint);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('gridmap', '0011_sealed_checks_without_regex'),
    ]

    operations = [
        migrations.AddField(
            model_name='household',
            name='vulnerable',
            field=models.GeneratedField(db_persist=True, expression=models.ExpressionWrapper(models.Q(('elderly_alone', True), ('disabled', True), ('low_income', True), ('hardship', True), _connector='OR'), output_field=models.BooleanField()), output_field=models.BooleanField(), verbose_name='困难群体'),
        ),
        migrations.RunSQL(FUNCTIONS, DROP),
    ]
