"""Sign-in lockout: after N failures within a window for one account from one address, refuse further
attempts until the window has passed. Other addresses and other accounts are not affected, so an
attacker cannot lock everybody out."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from gridmap.models import LoginAttempt


def hold(username: str, address: str | None) -> None:
    """One attempt at a time per account and address (a transaction-scoped advisory lock): 20 parallel wrong
    passwords are checked in turn, so no more than LOCKOUT_FAILURES of them ever reach the password check.
    Call inside the transaction that checks and records the attempt."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", [f"{username}\x1f{address or ''}"])


def is_locked(username: str, address: str | None) -> bool:
    since = timezone.now() - timedelta(seconds=settings.LOCKOUT_WINDOW_SECONDS)
    recent = LoginAttempt.objects.filter(username=username, address=address, at__gte=since)
    last_success = recent.filter(succeeded=True).order_by("-at").values_list("at", flat=True).first()
    failures = recent.filter(succeeded=False)
    if last_success is not None:
        failures = failures.filter(at__gt=last_success)
    return failures.count() >= settings.LOCKOUT_FAILURES


def record_attempt(username: str, address: str | None, succeeded: bool) -> None:
    LoginAttempt.objects.create(username=username[:150], address=address, succeeded=succeeded)
