"""Phones and ID numbers sealed at rest (issue #9): add ciphertext, digest and masked columns, seal the
existing rows with the configured key (gridmap.storage.sealed_fields), drop the plaintext, then constrain the new
columns. Reversible: going back opens every sealed value into the plaintext columns again."""

from django.conf import settings
from django.db import migrations, models

TABLES = {"gridmap_household": ("phone", "id_number"), "gridmap_member": ("phone",)}
CHUNK = 50_000


def seal_rows(apps, schema_editor):
    # Why SQL: one UPDATE per chunk from arrays; the ORM models of a migration have no sealing setters.
    from gridmap.storage import sealed_fields as sf

    with schema_editor.connection.cursor() as cursor:
        for table, kinds in TABLES.items():
            for kind in kinds:
                cursor.execute(f"SELECT id, {kind} FROM {table} WHERE {kind} <> '' ORDER BY id")
                rows = cursor.fetchall()
                for start in range(0, len(rows), CHUNK):
                    ids = [r[0] for r in rows[start:start + CHUNK]]
                    values = [r[1].strip().upper() for r in rows[start:start + CHUNK]]
                    cursor.execute(
                        f"UPDATE {table} t SET {kind}_sealed = u.s, {kind}_digest = u.d, {kind}_masked = u.m"
                        " FROM unnest(%s::bigint[], %s::bytea[], %s::bytea[], %s::text[]) AS u(id, s, d, m)"
                        " WHERE t.id = u.id",
                        [ids, sf.seal_many(kind, values), sf.digest_many(kind, values),
                         sf.mask_many(kind, values).tolist()])


def open_rows(apps, schema_editor):
    from gridmap.storage import sealed_fields as sf

    with schema_editor.connection.cursor() as cursor:
        for table, kinds in TABLES.items():
            for kind in kinds:
                cursor.execute(f"SELECT id, {kind}_sealed FROM {table} WHERE {kind}_sealed IS NOT NULL")
                rows = cursor.fetchall()
                if rows:
                    cursor.execute(f"UPDATE {table} t SET {kind} = u.v FROM unnest(%s::bigint[], %s::text[])"
                                   " AS u(id, v) WHERE t.id = u.id",
                                   [[r[0] for r in rows], [sf.unseal(kind, r[1]) for r in rows]])


class Migration(migrations.Migration):

    dependencies = [
        ('gridmap', '0006_sealing_account_audit_actions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='household',
            name='id_number_digest',
            field=models.BinaryField(db_index=True, null=True, verbose_name='身份证号（索引）'),
        ),
        migrations.AddField(
            model_name='household',
            name='id_number_masked',
            field=models.CharField(blank=True, db_default='', default='', editable=False, max_length=18, verbose_name='身份证号'),
        ),
        migrations.AddField(
            model_name='household',
            name='id_number_sealed',
            field=models.BinaryField(null=True, verbose_name='身份证号（密文）'),
        ),
        migrations.AddField(
            model_name='household',
            name='phone_digest',
            field=models.BinaryField(db_index=True, null=True, verbose_name='电话（索引）'),
        ),
        migrations.AddField(
            model_name='household',
            name='phone_masked',
            field=models.CharField(blank=True, db_default='', default='', editable=False, max_length=11, verbose_name='电话'),
        ),
        migrations.AddField(
            model_name='household',
            name='phone_sealed',
            field=models.BinaryField(null=True, verbose_name='电话（密文）'),
        ),
        migrations.AddField(
            model_name='member',
            name='phone_digest',
            field=models.BinaryField(db_index=True, null=True, verbose_name='电话（索引）'),
        ),
        migrations.AddField(
            model_name='member',
            name='phone_masked',
            field=models.CharField(blank=True, db_default='', default='', editable=False, max_length=11, verbose_name='电话'),
        ),
        migrations.AddField(
            model_name='member',
            name='phone_sealed',
            field=models.BinaryField(null=True, verbose_name='电话（密文）'),
        ),
        # Rows updated twice in this transaction (phone, then ID number) queue their deferred foreign-key
        # checks, and ALTER TABLE refuses a table with pending trigger events: run them before and after.
        migrations.RunSQL("SET CONSTRAINTS ALL IMMEDIATE", "SET CONSTRAINTS ALL IMMEDIATE"),
        migrations.RunPython(seal_rows, open_rows),
        migrations.RunSQL("SET CONSTRAINTS ALL IMMEDIATE", "SET CONSTRAINTS ALL IMMEDIATE"),
        migrations.RemoveConstraint(
            model_name='household',
            name='household_id_number_format',
        ),
        migrations.RemoveField(
            model_name='household',
            name='id_number',
        ),
        migrations.RemoveField(
            model_name='household',
            name='phone',
        ),
        migrations.RemoveField(
            model_name='member',
            name='phone',
        ),
        migrations.AddConstraint(
            model_name='household',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('id_number_digest__isnull', True), ('id_number_masked', ''), ('id_number_sealed__isnull', True)), models.Q(('id_number_digest__isnull', False), ('id_number_masked__regex', '^[0-9]{6}\\*{8}[0-9]{3}[0-9X]$'), ('id_number_sealed__isnull', False)), _connector='OR'), name='household_id_number_sealed'),
        ),
        migrations.AddConstraint(
            model_name='household',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('phone_digest__isnull', True), ('phone_masked', ''), ('phone_sealed__isnull', True)), models.Q(('phone_digest__isnull', False), ('phone_masked__regex', '^1[3-9][0-9]\\*{4}[0-9]{4}$'), ('phone_sealed__isnull', False)), _connector='OR'), name='household_phone_sealed'),
        ),
        migrations.AddConstraint(
            model_name='member',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('phone_digest__isnull', True), ('phone_masked', ''), ('phone_sealed__isnull', True)), models.Q(('phone_digest__isnull', False), ('phone_masked__regex', '^1[3-9][0-9]\\*{4}[0-9]{4}$'), ('phone_sealed__isnull', False)), _connector='OR'), name='member_phone_sealed'),
        ),
    ]
