"""The registry of people who serve (人员): pinyin initials for search, registration, XLSX import.

Imports are all-or-nothing: every row is checked first and the whole file is refused with a row error
report (row, column, code; capped) when any row is wrong; otherwise one INSERT writes every row.
"""

from __future__ import annotations

import io
import re

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.models import AuditAction, Member
from gridmap.rules.fields import hidden_character, phone_valid
from gridmap.rules.pinyin import pinyin_initials
from gridmap.services import audit
from gridmap.services.households.files import UnreadableFile, read_table
from gridmap.services.refused import Refused
from gridmap.storage import sealed_fields

MAX_ROWS = 10_000
MAX_ERRORS = 1_000
TEMPLATE_TEXT_ROWS = 500  # rows of the template pre-formatted as text
HEADERS = {"姓名": "name", "电话": "phone", "党员": "is_party_member", "工作单位": "employer", "居住社区": "community"}
_YES = {"是": True, "否": False, "1": True, "0": False, "true": True, "false": False, "": False}
_DIGITS = re.compile(r"^[0-9]+$")


def refresh_initials(member_ids: list[int] | None = None) -> int:
    """Fill ``pinyin_initials`` for the given members (or all that lack it) in one UPDATE.

    pypinyin runs in Python, so the names are read once, converted, and written back with a single
    UPDATE … FROM unnest(): set-based, not one save() per member (used after bulk loads).
    """
    rows = (
        Member.objects.filter(pk__in=member_ids)
        if member_ids is not None
        else Member.objects.filter(pinyin_initials="")
    )
    pairs = [(pk, pinyin_initials(name)) for pk, name in rows.values_list("pk", "name").iterator(chunk_size=5000)]
    if not pairs:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE gridmap_member m SET pinyin_initials = u.initials"
            "  FROM unnest(%s::bigint[], %s::text[]) AS u(id, initials) WHERE m.id = u.id",
            [[p[0] for p in pairs], [p[1] for p in pairs]],
        )
        return cursor.rowcount


def search(members: QuerySet, q: str) -> QuerySet:
    """Name (contains), pinyin initials (prefix) or phone digits — ``members`` is scoped. Phones are sealed:
    a whole number matches exactly through its keyed digest, a part matches the visible digits of the masked
    form (first 3, last 4: ``138****5678``)."""
    q = (q or "").strip()
    if not q:
        return members
    if _DIGITS.match(q):
        if len(q) == 11:
            return members.filter(phone_digest=sealed_fields.digest("phone", q))
        return members.filter(phone_masked__contains=q)
    if q.isascii():
        return members.filter(Q(pinyin_initials__startswith=q.lower()) | Q(name__icontains=q))
    return members.filter(name__contains=q)


def _clean_row(raw: dict, communities: dict[str, int], row: int, errors: list) -> dict | None:
    def fail(column: str, code: str, detail: str):
        errors.append({"row": row, "column": column, "code": code, "detail": detail})

    before = len(errors)
    name = str(raw.get("name") or "").strip()
    if not name:
        fail("姓名", "required", _("必填"))
    elif len(name) > 50 or hidden_character(name):
        fail("姓名", "bad_value", _("最多 50 个字符，不含控制字符"))
    phone = str(raw.get("phone") or "").strip()
    if phone.endswith(".0"):  # Excel stores a number column as float
        phone = phone[:-2]
    if phone and not phone_valid(phone):
        fail("电话", "bad_phone", _("手机号应为 11 位，以 13–19 开头"))
    party = _YES.get(str(raw.get("is_party_member") or "").strip().lower())
    if party is None:
        fail("党员", "bad_value", _("应为 是 或 否"))
    employer = str(raw.get("employer") or "").strip()
    if len(employer) > 100 or hidden_character(employer):
        fail("工作单位", "bad_value", _("最多 100 个字符，不含控制字符"))
    community = str(raw.get("community") or "").strip()
    community_id = communities.get(community)
    if community_id is None:
        fail("居住社区", "not_found", _("社区不存在或不在您的管辖范围（填 12 位代码或名称）"))
    if len(errors) > before:
        return None
    return {
        "name": name,
        "phone": phone,
        "is_party_member": party,
        "employer": employer,
        "community_id": community_id,
        "pinyin_initials": pinyin_initials(name),
    }


def _read_rows(data: bytes, filename: str) -> list[dict]:
    """The rows of the member file through the one table reader of the imports (services/households/files.py:
    CSV or XLSX by content, the zip checked before inflating, formulas kept as their text)."""
    try:
        frame = read_table(data, filename).frame
    except UnreadableFile as exc:
        raise Refused(400, exc.code, field="file", detail=exc.reason) from None
    header = [str(h).strip() for h in frame.columns]
    if "姓名" not in header or "居住社区" not in header:
        raise Refused(400, "bad_header", field="file", detail=_("表头需包含：姓名、电话、党员、工作单位、居住社区"))
    if len(frame) > MAX_ROWS:
        raise Refused(400, "too_many_rows", field="file", detail=_("最多 %(n)s 行") % {"n": MAX_ROWS})
    keys = [HEADERS.get(h) for h in header]
    return [
        {k: v for k, v in zip(keys, values) if k}
        for values in frame.itertuples(index=False, name=None)
        if any(str(v).strip() for v in values)
    ]


def import_members(user, data: bytes, filename: str = "") -> dict:
    """Import members from an XLSX file (姓名, 电话, 党员, 工作单位, 居住社区); all or nothing."""
    scope = policy.member_communities_for(user)
    if not scope.exists():
        raise Refused(403, "forbidden", detail=_("无权导入人员"))
    rows = _read_rows(data, filename)
    communities = {}
    for pk, code, name in scope.values_list("pk", "code", "name"):
        communities[code] = communities[name] = pk
    errors, clean, seen = [], [], {}
    for number, raw in enumerate(rows, start=2):  # row 1 is the header
        item = _clean_row(raw, communities, number, errors)
        if item and item["phone"]:
            if item["phone"] in seen:
                errors.append(
                    {
                        "row": number,
                        "column": "电话",
                        "code": "duplicate",
                        "detail": _("与第 %(row)s 行重复") % {"row": seen[item["phone"]]},
                    }
                )
                item = None
            else:
                seen[item["phone"]] = number
        if item:
            clean.append((number, item))
        if len(errors) >= MAX_ERRORS:
            break
    phones = list(seen)
    digests = dict(zip(sealed_fields.digest_many("phone", phones), phones))  # exact match via the blind index
    existing = {
        digests[bytes(d)]
        # only the importer's members: a phone registered in another scope must not tell (no existence oracle)
        for d in policy.members_for(user).filter(phone_digest__in=list(digests)).values_list("phone_digest", flat=True)
    }
    errors += [
        {"row": n, "column": "电话", "code": "exists", "detail": _("该电话已登记")}
        for n, item in clean
        if item["phone"] in existing
    ]
    if errors or not clean:
        audit.record(user, AuditAction.IMPORT, "member", fields=filename, result="refused")
        raise Refused(
            400,
            "row_errors",
            field="file",
            detail=_("文件有错误，未导入任何行"),
            errors=errors[:MAX_ERRORS],
            rows=len(rows),
        )
    with transaction.atomic():
        created = Member.objects.bulk_create([Member(**item) for _n, item in clean], batch_size=2000)
        audit.record(user, AuditAction.IMPORT, "member", len(created), fields=filename)
    return {"imported": len(created)}


def template_xlsx(user) -> bytes:
    """The import template: the Chinese headers, one example row, phone and community cells as text
    (Excel would otherwise turn 13812345678 into 1.38E+10 and drop a community code's leading digits)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    community = policy.member_communities_for(user).order_by("code").values_list("code", "name").first()
    book = Workbook()
    sheet = book.active
    sheet.title = _("人员")
    sheet.append(list(HEADERS))
    sheet.append([_("张三"), "13800138000", "是", _("区人民医院"), community[1] if community else ""])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDE", (12, 16, 8, 24, 24)):
        sheet.column_dimensions[column].width = width
    for row in range(2, TEMPLATE_TEXT_ROWS + 2):
        for column in ("B", "E"):  # 电话, 居住社区
            sheet[f"{column}{row}"].number_format = "@"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def create_member(user, data: dict) -> Member:
    """Register one member by hand (same checks as an import row)."""
    communities = {str(pk): pk for pk in policy.member_communities_for(user).values_list("pk", flat=True)}
    if not communities:
        raise Refused(403, "forbidden", detail=_("无权登记人员"))
    errors: list = []
    raw = {
        **data,
        "community": str(data.get("community", "")),
        "is_party_member": "1" if data.get("is_party_member") is True else "0",
    }
    item = _clean_row(raw, communities, 0, errors)
    if errors:
        first = errors[0]
        raise Refused(400, first["code"], field=HEADERS.get(first["column"], "body"), detail=first["detail"])
    return Member.objects.create(**item)
