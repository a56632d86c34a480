"""Send the concern webhook's due deliveries, for cron or a systemd timer next to concern_sweep
(docs/operations.md, "Concern webhook"). Safe to run several at once: each row goes out through one sender."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from gridmap.services.concerns.outbox import configuration_problem, enabled
from gridmap.services.concerns.webhook import send_due


class Command(BaseCommand):
    help = "Send due concern webhook deliveries (signed, retried with backoff); prints the counts."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=50, help="rows claimed at a time (default 50)")

    def handle(self, *args, **options):
        problem = configuration_problem()
        if problem:
            raise CommandError(problem)
        if not enabled():
            self.stdout.write("concern webhook off (CONCERN_WEBHOOK_URL is empty)")
            return
        counts = send_due(batch=max(1, min(options["batch"], 500)))
        self.stdout.write(f"delivered {counts['delivered']} failed attempts {counts['failed']}")
