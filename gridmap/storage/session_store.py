"""Database sessions whose renewals commit without waiting for the WAL flush.

Why: SESSION_SAVE_EVERY_REQUEST renews the 30-minute idle window on every request, so every GET, even
one answered from a cache, ends with an UPDATE of its session row and a COMMIT that waits for fsync:
measured at ~3 ms of a ~10 ms request on these machines (bench/leader_view.py). ``synchronous_commit =
off`` for that one transaction keeps the write and its ordering; a crash can lose at most the last few
hundred milliseconds of renewals (the session then expires up to that much earlier), never a sign-in
or a sign-out (the session key cycle and logout's delete go through ``create``/``delete``, which are
unchanged and synchronous).
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.db import DatabaseError, connections, router, transaction


class SessionStore(DatabaseStore):
    def save(self, must_create: bool = False) -> None:
        if must_create or self.session_key is None:  # a new session (sign-in): durable as before
            return super().save(must_create=must_create)
        # Django's own save() (an UPDATE of the row), without its inner atomic block: no savepoint
        # round trips.
        obj = self.create_model_instance(self._get_session())
        using = router.db_for_write(self.model, instance=obj)
        # Inside someone else's transaction the setting would cover their writes too: only on our own.
        own_transaction = not connections[using].in_atomic_block
        try:
            with transaction.atomic(using=using):
                if own_transaction:
                    with connections[using].cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit TO off")
                obj.save(force_update=True, using=using)
        except DatabaseError:
            raise UpdateError from None  # the session was deleted meanwhile (as Django's store says)
