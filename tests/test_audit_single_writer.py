"""``services/audit.record`` is the only writer of audit events: a scan of the source refuses any other way in
(ORM create/bulk_create/save, a model instance, raw SQL), and the three paths that used to write directly (reveal,
assignment, member import) now write exactly one event each through it."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest

from gridmap.models import AuditEvent, GridAssignment, Member
from gridmap.services import audit
from gridmap.services.households import care
from gridmap.services.people import members, staffing
from tests.people_support import household_in, leader_grid, leaderless_grid

ROOT = Path(__file__).resolve().parent.parent / "gridmap"
WRITER = ROOT / "services" / "audit.py"
RAW_INSERT = re.compile(r"insert\s+into\s+\"?gridmap_auditevent", re.I)


def other_writers(files) -> list[str]:
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        found += [f"{path}: raw INSERT" for _ in RAW_INSERT.finditer(text)]
        for node in ast.walk(ast.parse(text)):
            # AuditEvent(...) or AuditEvent.objects.<anything>(...) that writes
            if isinstance(node, ast.Call):
                chain = ast.unparse(node.func)
                if chain == "AuditEvent" or re.fullmatch(
                    r"AuditEvent\.objects\.(create|bulk_create|get_or_create|"
                    r"update_or_create)",
                    chain,
                ):
                    found.append(f"{path}:{node.lineno}: {chain}")
    return found


def test_no_module_but_services_audit_writes_audit_events():
    files = [p for p in ROOT.rglob("*.py") if p != WRITER and "migrations" not in p.parts]
    assert other_writers(files) == []


def test_the_scan_catches_a_direct_write(tmp_path):
    rogue = tmp_path / "rogue.py"
    rogue.write_text(
        "AuditEvent.objects.create(action='x')\nAuditEvent(action='y').save()\n"
        "cursor.execute('INSERT INTO gridmap_auditevent (action) VALUES (1)')\n"
    )
    assert len(other_writers([rogue])) == 3


@pytest.fixture
def counted(monkeypatch):
    calls = []
    real = audit.record

    def record(*args, **kwargs):
        calls.append(args[1] if len(args) > 1 else kwargs.get("action"))
        return real(*args, **kwargs)

    monkeypatch.setattr(audit, "record", record)
    return calls


def test_a_reveal_writes_one_event_through_record(user_for, counted):
    leader = user_for("grid_leader")
    household = household_in(leader_grid(leader))
    before = AuditEvent.objects.count()
    care.reveal_personal_data(leader, household.pk, "走访核实", "10.0.0.9")
    assert counted == ["reveal"] and AuditEvent.objects.count() == before + 1
    assert AuditEvent.objects.latest("id").ip == "10.0.0.9"


def test_an_assignment_writes_one_event_through_record(user_for, counted):
    admin = user_for("street_admin")
    grid = leaderless_grid(admin)
    member = Member.objects.filter(community=grid.community).exclude(
        pk__in=GridAssignment.objects.values("member")
    ).first() or Member.objects.create(name="审计测试", community=grid.community)
    before = AuditEvent.objects.count()
    staffing.assign_member(grid.pk, member.pk, "volunteer", dt.date.today(), admin)
    assert len(counted) == 1 and AuditEvent.objects.count() == before + 1


def test_a_member_import_writes_one_event_through_record_whether_it_lands_or_not(user_for, counted):
    admin = user_for("street_admin")
    template = members.template_xlsx(admin)  # one example row
    before = AuditEvent.objects.count()
    members.import_members(admin, template, "people.xlsx")
    with pytest.raises(members.Refused):  # the same phone again: refused, nothing imported
        members.import_members(admin, template, "people.xlsx")
    assert counted == ["import", "import"] and AuditEvent.objects.count() == before + 2
    assert list(AuditEvent.objects.order_by("-id").values_list("result", flat=True)[:2]) == ["refused", "ok"]
