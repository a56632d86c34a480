"""Run one import job in this process, whatever its kind (started by an upload for a large file)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from gridmap.services.imports.jobs import ProgressReporter, run


class Command(BaseCommand):
    help = "Run the import job with this id (households, streets, communities, stations or grids; dry run or commit)."

    def add_arguments(self, parser):
        parser.add_argument("job", type=int)

    def handle(self, *args, job: int, **options):
        reporter = ProgressReporter(job)
        reporter.started()
        try:
            run(job, reporter=reporter)
        except BaseException as exc:  # the import rolled back; the job must not stay "running"
            reporter.failed(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            raise
        finally:
            reporter.close()
