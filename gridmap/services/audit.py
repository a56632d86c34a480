"""The audit trail: one function writes every event (sign-ins, lockouts, publishes, imports, reveals...).

The table is append-only twice over: the model refuses updates and deletes, and a database trigger
(migration 0005) refuses them for any SQL, so nobody rewrites history through the ORM or a shell."""

from __future__ import annotations

from gridmap.models import AuditEvent


def client_address(request) -> str | None:
    # Behind a proxy set the proxy to overwrite REMOTE_ADDR; never trust a client-sent header here.
    return request.META.get("REMOTE_ADDR") or None if request is not None else None


def record(
    user,
    action: str,
    object_type: str = "",
    object_id="",
    *,
    request=None,
    username: str = "",
    reason: str = "",
    fields: str = "",
    result: str = "ok",
    ip: str | None = None,
) -> AuditEvent:
    """Append one event: who (``user`` or a bare ``username``), what, which object, why, from where (the
    request's address, or ``ip`` when the caller holds no request), result. The only writer of AuditEvent:
    tests/test_audit_single_writer.py fails on any other."""
    known = user if getattr(user, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        user=known,
        username=(known.get_username() if known else username)[:150],
        action=action,
        object_type=object_type[:40],
        object_id=str(object_id)[:40],
        reason=reason[:500],
        fields=fields[:200],
        ip=client_address(request) if request is not None else ip,
        result=result[:16],
    )
