"""Merging duplicate concerns (合并重复, issue #17): staff of the manager level merge an open concern into another
concern of their scope, either way round from either one's detail. The merged one ends void like a voided one and
names the one kept (Concern.merged_into); both get a history row (the merged one "merge" to void with the kept
one's number, the kept one states.MERGED_IN with the merged one's, its state unchanged) and both rows' versions
move on; one audit event, and the merged one's webhook delivery (outbox.announce: a 12345 platform hears a void
naming the one kept). One transaction.

Both rows are locked in id order, whichever way round the merge goes: two staff merging a pair in opposite
directions at once never deadlock; the second waits for the first, then finds the pair changed (412 on the
version it read, or 400 naming ``into`` when the one it would keep is void)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.models import AuditAction
from gridmap.models.concerns import Concern, ConcernEvent
from gridmap.services import audit
from gridmap.services.concerns import outbox, states
from gridmap.services.concerns.workflow import actor_name, stage_left  # the package's one rule for each
from gridmap.services.refused import Refused, checked_text, not_found


def locked_pair(user, concern_id: int, into) -> dict[int, Concern]:
    """The concern to merge and the one to keep (``into``), both of the user's scope, row-locked in id order (call
    inside a transaction), by id. 400 naming ``into`` when it is missing or the concern itself; 404 naming
    ``concern`` or ``into`` for one out of scope."""
    if isinstance(into, bool) or not isinstance(into, int):
        raise Refused(400, "required", field="into", detail=_("请选择要合并到的诉求"))
    if into == concern_id:
        raise Refused(400, "bad_value", field="into", detail=_("不能合并到诉求自身"))
    pair = (  # category and community with them (the history's deadline rule needs both); only concerns locked
        policy.concerns_for(user)
        .select_related("category", "community")
        .select_for_update(of=("self",))
        .filter(pk__in=(concern_id, into))
        .order_by("pk")
    )
    rows = {c.pk: c for c in pair}
    if concern_id not in rows:
        raise not_found("concern")
    if into not in rows:
        raise not_found("into")
    return rows


@transaction.atomic
def merge(user, concern_id: int, into, data: dict, *, version: int | None = None) -> tuple[Concern, Concern]:
    """Merge concern ``concern_id`` into concern ``into`` (``data``: an optional ``note``); (merged, kept) as they
    are now. With ``version``, only at the merged one's version the user read (the API holds its callers to
    If-Match on it before calling)."""
    rows = locked_pair(user, concern_id, into)
    merged, kept = rows[concern_id], rows[into]
    if version is not None and merged.version != version:
        raise Refused(412, "precondition_failed", field="If-Match", detail=_("该诉求已被他人更新，请刷新后重试"),
                      current=merged.version)  # fmt: skip
    step = states.MERGE
    if policy.concern_level(user) not in step.levels:
        raise Refused(403, "forbidden", field="action", detail=_("您的角色不能执行此操作"))
    if merged.state not in step.sources:
        raise Refused(409, "wrong_state", field="action",
                      detail=_("当前状态“%(state)s”不能“%(action)s”") % {"state": merged.get_state_display(),
                                                                     "action": step.label})  # fmt: skip
    if not states.keeps(kept.state, kept.merged_into_id):
        detail = (_("该诉求已合并到 #%(id)s，请合并到它") % {"id": kept.merged_into_id} if kept.merged_into_id
                  else _("不能合并到“%(state)s”的诉求") % {"state": kept.get_state_display()})  # fmt: skip
        raise Refused(400, "not_keepable", field="into", detail=detail)
    note = checked_text(data.get("note") or "", "note", 1900, blank=True)
    now, changes = timezone.now(), {}
    if merged.due_at is not None and merged.due_at < now:
        changes["late_steps"] = F("late_steps") + 1  # as any step: this stage ends late
    changes.update(stage_left(merged, now))  # its time in the stage it leaves, as a void's
    Concern.objects.filter(pk=merged.pk).update(state=step.target, merged_into=kept, version=F("version") + 1,
                                                stage_started_at=now, due_at=None, **changes)  # fmt: skip
    Concern.objects.filter(pk=kept.pk).update(version=F("version") + 1)  # its history grew
    actor = actor_name(user)
    events = ConcernEvent.objects.bulk_create([
        ConcernEvent(concern=merged, user=user, actor=actor, action="merge", from_state=merged.state,
                     to_state=step.target, note=f"#{kept.pk} {note}".strip()),
        ConcernEvent(concern=kept, user=user, actor=actor, action=states.MERGED_IN, from_state=kept.state,
                     to_state=kept.state, note=f"#{merged.pk} {note}".strip()),
    ])  # fmt: skip
    outbox.announce([e.pk for e in events])  # the merge (a void naming the kept one); the kept one's row stays inside
    audit.record(user, AuditAction.CONCERN, "concern", merged.pk, reason=f"merge into {kept.pk}")
    merged.refresh_from_db()
    kept.refresh_from_db()
    return merged, kept
