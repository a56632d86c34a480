"""The overdue sweep of residents' concerns, for cron or a systemd timer (docs/operations.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from gridmap.services.concerns.sweep import escalate_overdue


class Command(BaseCommand):
    help = "Flag (督办) every open concern whose stage deadline has passed; prints how many."

    def handle(self, *args, **options):
        self.stdout.write(f"escalated {escalate_overdue()}")
