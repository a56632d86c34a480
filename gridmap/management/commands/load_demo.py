"""Load the demo street (or a synthetic city of any size) when the database is empty, and print the
demo accounts. Idempotent: with data present it only resets the demo accounts."""

from __future__ import annotations

import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from gridmap.models import Household, Street
from gridmap.services.accounts.demo_accounts import ensure_demo_accounts
from gridmap.services.concerns.demo import load_demo_concerns
from gridmap.services.layers.city_loader import load_city

DEFAULT_PASSWORD = "GridMap-demo-2026"


class Command(BaseCommand):
    help = "Load the demo street into an empty database and create demo accounts for every role."

    def add_arguments(self, parser):
        parser.add_argument(
            "--households",
            type=int,
            default=None,
            help="build a synthetic city of this many households instead of the demo street",
        )
        parser.add_argument("--seed", type=int, default=20261122)
        parser.add_argument("--no-accounts", action="store_true", help="load data only")
        parser.add_argument("--no-concerns", action="store_true", help="without the demo year of residents' concerns")

    def handle(self, *args, households=None, seed=20261122, no_accounts=False, no_concerns=False, **options):
        from geodata.synth import build_city, demo_street

        if not no_accounts and not settings.DEMO_MODE:
            raise CommandError("demo accounts exist only in demo mode (DEMO_MODE=true); use --no-accounts")
        if Street.objects.exists():
            self.stdout.write(f"data present ({Household.objects.count()} households): not loading again")
        else:
            started = time.perf_counter()
            city = demo_street(seed) if households is None else build_city(households, seed=seed)
            built = time.perf_counter()
            counts = load_city(city)
            self.stdout.write(
                f"built the city in {built - started:.1f} s, loaded in {time.perf_counter() - built:.1f} s"
            )
            self.stdout.write(", ".join(f"{k} {v}" for k, v in counts.items()))
        if households is None and not no_concerns:
            made = load_demo_concerns()
            if made:
                self.stdout.write(f"residents' concerns {made}")
        if no_accounts:
            return
        password = os.environ.get("DEMO_PASSWORD", DEFAULT_PASSWORD)
        accounts = ensure_demo_accounts(password)
        self.stdout.write(self.style.SUCCESS(f"demo accounts (password for all: {password})"))
        for account in accounts:
            self.stdout.write(f"  {account.username:<12} {account.role:<8} {account.scope}")
