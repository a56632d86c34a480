from django.db import migrations

# Why a trigger: the event time is the database's clock, whatever the inserting session sends, so a
# back-dated event cannot be written by any path (the app, raw SQL, a future bulk job). With the table owned
# by another role (.ci/audit-owner.sh: the app's role may only SELECT and INSERT), neither this trigger nor
# the append-only one can be disabled or dropped by the app's role.
FUNCTIONS = """
CREATE FUNCTION gridmap_audit_time() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.at := clock_timestamp();
    RETURN NEW;
END $$;
CREATE TRIGGER gridmap_auditevent_time BEFORE INSERT ON gridmap_auditevent
    FOR EACH ROW EXECUTE FUNCTION gridmap_audit_time();
"""

DROP = """
DROP TRIGGER gridmap_auditevent_time ON gridmap_auditevent;
DROP FUNCTION gridmap_audit_time();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("gridmap", "0013_external_id_per_community"),
    ]

    operations = [migrations.RunSQL(FUNCTIONS, DROP)]
