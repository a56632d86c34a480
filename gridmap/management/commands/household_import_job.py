"""The former name of ``manage.py import_job``, kept working: it runs any import job by its id."""

from __future__ import annotations

from gridmap.management.commands.import_job import Command as ImportJobCommand


class Command(ImportJobCommand):
    help = "Former name of import_job: run the import job with this id."
