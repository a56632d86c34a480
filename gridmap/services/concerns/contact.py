"""The contact phone a resident left with a public (QR) concern (models/intake.ConcernContact), for the call back of
the 回访 step: masked on the concern's detail for whoever may see it (policy.concern_contacts_for), in full only by
a reveal with a typed reason, one audit row per reveal (who, when, what, why, from where), as for a household's
phone (services/households/care.reveal_personal_data)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.models import AuditAction
from gridmap.models.intake import ConcernContact
from gridmap.services import audit
from gridmap.services.refused import Refused, checked_text, not_found
from gridmap.storage import sealed_fields

REVEALED = "contact_phone"  # what an audit row of a reveal names in ``fields``


def masked_phone(user, concern_id: int) -> str | None:
    """The masked phone (``139****5678``) of the concern's contact, or None: no contact, or not this user's to see."""
    masked = policy.concern_contacts_for(user).filter(concern_id=concern_id).values_list("phone_masked", flat=True)
    return next(iter(masked), None) or None


def _in_scope(user, concern_id: int) -> ConcernContact:
    """The contact of a concern of the user's scope; 404 for a concern out of scope and for one without a contact."""
    if not policy.concerns_for(user).filter(pk=concern_id).exists():
        raise not_found("concern")
    contact = policy.concern_contacts_for(user).filter(concern_id=concern_id).first()
    if contact is None or not contact.phone_masked:
        raise not_found("contact")
    return contact


def reveal_phone(user, concern_id: int, reason, ip: str | None) -> dict:
    """The full phone for a typed ``reason`` (403 for a role that may not reveal, 404 out of scope or without a
    contact, 400 without a reason of two characters or more); the audit row in the same transaction. A key problem
    of the server is 503 ``data_key_error`` with an audit row of result "failed", never a 500."""
    if not policy.may_reveal(user):
        raise Refused(403, "forbidden")
    with transaction.atomic():
        contact = _in_scope(user, concern_id)
        reason = checked_text(reason if reason is not None else "", "reason", 500)
        if len(reason) < 2:
            raise Refused(400, "reason_too_short", field="reason", detail=_("请填写查看原因"))
        try:
            phone, failure = contact.phone, None
        except sealed_fields.SealError as exc:
            phone, failure = None, str(exc)
        audit.record(user, AuditAction.REVEAL, "concern", concern_id, fields=REVEALED, reason=reason, ip=ip,
                     result="failed" if failure else "ok")  # fmt: skip
    if failure is not None:  # raised after the commit: the failed attempt stays on record
        raise Refused(503, "data_key_error", field="key", detail=failure)
    return {"id": concern_id, "phone": phone}
