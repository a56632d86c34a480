# The concern table keeps a tenth of each page free, and is rewritten once to get it.
#
# The sweep flags every overdue concern (escalated, version: no index holds them), which PostgreSQL can do in place
# (a HOT update: no new entry in any of the table's 15 indexes) only when the row's page has room. Full pages (a
# bulk load, or migration 0029's backfill of every row) made 71 % of those updates write every index again: the
# bare flagging UPDATE of 44,000 overdue concerns at a million took 4.2 s and 227 MB of WAL. With 10 % free and
# the rewrite, 95 % are in place and it takes 1.2 s (docs/performance.md). VACUUM FULL cannot run in a
# transaction, hence atomic = False; it locks the table while it runs (18 s at a million concerns).

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("gridmap", "0030_concern_merged_into"),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE gridmap_concern SET (fillfactor = 90)", "ALTER TABLE gridmap_concern RESET (fillfactor)"
        ),
        migrations.RunSQL("VACUUM FULL gridmap_concern", migrations.RunSQL.noop),
    ]
