"""A street's own concern deadlines (issue #17): its street admin sets the hours of each stage per category, and
whether they count working days only. Read and written here only; states.due applies them to every new stage.
Every value is checked before anything is written, and the change is one transaction and one audit event."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.models import AuditAction, Street
from gridmap.models.concerns import ConcernCategory, StreetDeadline
from gridmap.services import audit
from gridmap.services.refused import Refused

STAGES = ("accept", "dispatch", "handle", "verify")
MAX_HOURS = 720  # 30 days: a stage longer than that is parked, not timed


def street_for(user) -> Street:
    """The street whose deadlines ``user`` sets: a street admin's own; nobody else sets them here."""
    street = policy.deadline_street_of(user)
    if street is None:
        raise Refused(403, "forbidden", detail=_("只有街道管理员可以设置本街道的诉求时限"))
    return street


def deadlines(street: Street) -> list[dict]:
    """Every active category with the hours that apply in ``street`` (its own, or the category's) and whether
    they are the street's own."""
    own = {d.category_id: d for d in StreetDeadline.objects.filter(street=street)}
    rows = []
    for category in ConcernCategory.objects.filter(active=True).order_by("code"):
        rule = own.get(category.pk)
        source = rule or category
        rows.append({"category": category.code, "label": category.label, "own": rule is not None,
                     "working_days": rule.working_days if rule else False,
                     **{f"{stage}_hours": getattr(source, f"{stage}_hours") for stage in STAGES}})  # fmt: skip
    return rows


def _hours(value, field: str) -> int:
    text = str(value).strip() if value is not None else ""
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_HOURS:
        raise Refused(400, "bad_value", field=field, detail=_("时限应为 1 到 %(n)s 的整数小时") % {"n": MAX_HOURS})
    return int(text)


@transaction.atomic
def save_deadlines(user, rows: list[dict], *, request=None) -> list[dict]:
    """Set the street's hours for the categories in ``rows`` ({category, <stage>_hours…, working_days}); a row
    with ``own`` false returns the category to its default hours. All or nothing."""
    street = street_for(user)
    categories = {c.code: c for c in ConcernCategory.objects.filter(active=True)}
    keep, drop = [], []
    for i, row in enumerate(rows):
        category = categories.get(row.get("category"))
        if category is None:
            raise Refused(400, "invalid_choice", field=f"rows[{i}].category", detail=_("请选择诉求类别"))
        if not row.get("own", True):
            drop.append(category.pk)
            continue
        hours = {f"{s}_hours": _hours(row.get(f"{s}_hours"), f"rows[{i}].{s}_hours") for s in STAGES}
        keep.append(
            StreetDeadline(street=street, category=category, working_days=bool(row.get("working_days")), **hours)
        )
    StreetDeadline.objects.filter(street=street, category_id__in=drop + [d.category_id for d in keep]).delete()
    StreetDeadline.objects.bulk_create(keep)
    audit.record(user, AuditAction.CONCERN, "street_deadline", street.pk, request=request,
                 reason=f"own {len(keep)}, default {len(drop)}")  # fmt: skip
    return deadlines(street)
