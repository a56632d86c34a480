"""Staff of grids and the member registry (/api/v1/…). Thin: parse, call one service or query, answer JSON.
Ending an assignment names its ETag (``etag`` of its staff row) in ``If-Match``; the rest are creates."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.api import etags
from gridmap.api.jsonapi import body, date_field, endpoint, int_field, precondition, reply, upload
from gridmap.models import AssignmentRole
from gridmap.queries.staffing import staffing_layer
from gridmap.services.people import members as member_service
from gridmap.services.people import staffing
from gridmap.services.refused import Refused, not_found

PAGE_SIZE = 50
MEMBER_FILE_MAX_BYTES = 5 * 1024 * 1024
_LONG_DIGITS = 7  # a full phone number does not belong in a URL (it ends up in logs): search by part


@endpoint()
def staffing_geojson(request: HttpRequest) -> HttpResponse:
    # Staff names and counts only, no resident data: planners may see it as an aggregate of their streets.
    response = HttpResponse(staffing_layer(policy.grids_for(request.user)), content_type="application/geo+json")
    response["Cache-Control"] = "private, no-store"
    return response


@endpoint(creates=("POST",))
def grid_staff(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: active staff and history of a grid. POST {member, role, start_date, replace_leader}: assign."""
    if request.method == "POST":
        data = body(request)
        staffing.assign_member(
            pk,
            int_field(data, "member"),
            str(data.get("role", "")),
            date_field(data, "start_date"),
            request.user,
            replace_leader=data.get("replace_leader") is True,
        )
    if policy.role_of(request.user) == "planner":
        raise Refused(403, "forbidden", detail=_("此角色只能查看汇总数据"))
    grid = policy.grids_for(request.user).filter(pk=pk).first()
    if grid is None:
        raise not_found("grid")
    staff = staffing.grid_staff(grid)
    for row in (*staff["active"], *staff["history"]):
        row["etag"] = etags.dated(row["start_date"], row["end_date"])
    staff.update(
        grid={"id": grid.pk, "code": grid.code, "name": grid.name},
        assignable_roles=[
            {"value": r, "label": str(AssignmentRole(r).label)} for r in policy.assignable_roles(request.user)
        ],
    )
    return reply(staff, 201 if request.method == "POST" else 200)


@endpoint(guards=("POST",), get=False)
@transaction.atomic
def end_assignment(request: HttpRequest, pk: int) -> HttpResponse:
    found = staffing.assignment_to_end(request.user, pk)  # 404 / 403 first, row-locked
    precondition(
        request,
        etags.assignment(found),
        {"current": {"id": found.pk, "end_date": found.end_date.isoformat() if found.end_date else None}},
    )
    data = body(request)
    assignment = staffing.end_assignment(pk, date_field(data, "end_date"), request.user)
    return reply(
        {"id": assignment.pk, "end_date": assignment.end_date.isoformat(), "etag": etags.assignment(assignment)}
    )


def _member_json(member) -> dict:
    return {
        "id": member.pk,
        "name": member.name,
        "initials": member.pinyin_initials,
        "phone": member.phone_masked,
        "is_party_member": member.is_party_member,
        "employer": member.employer,
        "community_id": member.community_id,
        "etag": etags.member(member),
    }


@endpoint(creates=("POST",))
def members(request: HttpRequest) -> HttpResponse:
    """GET ?q=&unassigned=1&page=: search the members in scope. POST: register one member."""
    if request.method == "POST":
        member = member_service.create_member(request.user, body(request))
        return reply(_member_json(member), 201)
    if policy.role_of(request.user) == "planner":
        raise Refused(403, "forbidden", detail=_("此角色只能查看汇总数据"))
    q = request.GET.get("q", "")[:50]
    if sum(ch.isdigit() for ch in q) >= _LONG_DIGITS:
        raise Refused(400, "phone_in_url", field="q", detail=_("请只输入电话号码的后几位"))
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 0
    if not 1 <= page <= 100_000:  # an OFFSET past PostgreSQL's bigint would be a database error
        raise Refused(400, "bad_value", field="page", detail=_("应为 1 到 100000 的整数"))
    scope = policy.members_for(request.user)
    if request.GET.get("unassigned") == "1":
        scope = staffing.unassigned_members(scope)
    rows = list(member_service.search(scope, q).order_by("name", "id")[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    return reply(
        {"results": [_member_json(m) for m in rows[:PAGE_SIZE]], "page": page, "has_more": len(rows) > PAGE_SIZE}
    )


@endpoint(creates=("POST",), get=False)
def import_members(request: HttpRequest) -> HttpResponse:
    """multipart upload ``file`` (XLSX): all rows or none, with a row error report."""
    if not policy.member_communities_for(request.user).exists():
        raise Refused(403, "forbidden", detail=_("无权导入人员"))
    found = upload(request, MEMBER_FILE_MAX_BYTES)
    return reply(member_service.import_members(request.user, found.read(), found.name or ""), 201)
