# Reference layers imported as jobs (issue #16 item 4): the import job kind "reference", and when each reference
# feature was imported (the data exchange page lists each layer's last import; rows loaded before now get now()).

import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gridmap", "0023_coverage_store"),
    ]

    operations = [
        migrations.AlterField(
            model_name="importjob",
            name="kind",
            field=models.CharField(
                choices=[
                    ("households", "住户"),
                    ("streets", "街道"),
                    ("communities", "社区"),
                    ("stations", "服务站点"),
                    ("grids", "网格"),
                    ("reference", "参考图层"),
                ],
                default="households",
                max_length=12,
                verbose_name="导入类型",
            ),
        ),
        migrations.AddField(
            model_name="referencefeature",
            name="imported_at",
            field=models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name="导入时间"),
        ),
    ]
