"""Import households from a CSV file (all or nothing); prints each error as row, column and reason."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from geodata.crs import SOURCE_CRS
from gridmap.services.household_import import import_households_csv


class Command(BaseCommand):
    help = "Import households from a CSV file (经度,纬度,地址,户主[,电话,身份证号,人数,外部编号]); all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file, UTF-8 or GBK, with a header row")
        parser.add_argument("--crs", required=True, help=f"coordinate system of the file: {', '.join(SOURCE_CRS)}")

    def handle(self, *args, path: str, crs: str, **options):
        try:
            result = import_households_csv(path, source_crs=crs)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if not result.ok:
            for error in result.errors:
                self.stderr.write(f"row {error.row}, {error.column or '-'}: {error.reason}")
            raise CommandError(f"{result.error_count} error(s); nothing was imported")
        self.stdout.write(self.style.SUCCESS(
            f"imported {result.imported} households: {result.in_grid} in a grid, {result.without_grid} in none"))
