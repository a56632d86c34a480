"""Import households from a CSV or XLSX file (all or nothing), with a progress bar on stderr; prints
each error as row, column and reason. A row whose 外部编号 is already stored updates that household."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from geodata.crs import SOURCE_CRS
from gridmap.services.households.files import UnreadableFile
from gridmap.services.households.importing import import_households

BAR_WIDTH = 30
STAGES = {"read": "读取", "check": "核对", "validate": "校验与转换", "write": "写入", "done": "完成"}


class Command(BaseCommand):
    help = (
        "Import households from a CSV or XLSX file (经度,纬度,地址,户主[,电话,身份证号,人数,外部编号]); all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV (UTF-8, UTF-16 with BOM or GBK) or XLSX file with a header row")
        parser.add_argument("--crs", required=True, help=f"coordinate system of the file: {', '.join(SOURCE_CRS)}")
        parser.add_argument("--dry-run", action="store_true", help="check everything, then roll back")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, path: str, crs: str, dry_run: bool, no_progress: bool, **options):
        progress = None if no_progress else self._bar
        try:
            result = import_households(path, source_crs=crs, filename=path, dry_run=dry_run, progress=progress)
        except (OSError, ValueError, UnreadableFile) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if progress:
                self.stderr.write("")
        if not result.ok:
            for error in result.errors:
                self.stderr.write(f"row {error.row}, {error.column or '-'}: {error.reason}")
            raise CommandError(f"{result.error_count} error(s); nothing was imported")
        verb = "would import" if dry_run else "imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {result.imported} households: {result.in_grid} in a grid, {result.without_grid} in none; "
                f"{result.updated} updated by external id"
            )
        )

    def _bar(self, stage: str, fraction: float) -> None:
        done = int(BAR_WIDTH * fraction)
        self.stderr.write(
            f"\r[{'#' * done}{'.' * (BAR_WIDTH - done)}] {fraction:4.0%} {STAGES.get(stage, stage)}", ending=""
        )
        self.stderr.flush()
