"""The domain rules SQL needs live once in the database (migration 0012), and each agrees with its Python twin:
the masked name with policy.mask_name, the generated vulnerable column with VULNERABLE_TAGS, the support rule with
the ORM's view of central households, links and help pairs. No query pastes a rule's text again."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection

from gridmap import policy
from gridmap.models import CentralHousehold, CentralLink, HelpPair, Household
from gridmap.models.households import VULNERABLE_TAGS

ROOT = Path(__file__).resolve().parent.parent / "gridmap"
NAMES = ["", "王", "王建国", "欧阳娜娜", "Li Lei", " 张三 ", "a" * 50, "阿卜杜·热合曼", "😀表情"]


def _sql(statement: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


@pytest.mark.parametrize("name", NAMES)
def test_the_masked_name_in_sql_equals_the_python_twin(db, name):
    assert _sql("SELECT gridmap_masked_name(%s)", [name])[0][0] == policy.mask_name(name)


def test_the_generated_vulnerable_column_follows_the_tags_on_every_household(db):
    rows = Household.objects.values_list("vulnerable", *VULNERABLE_TAGS)
    assert rows.exists()
    assert [row for row in rows if row[0] != any(row[1:])] == []


def test_the_support_rule_equals_central_links_and_help_pairs_as_the_orm_sees_them(db):
    supported = (
        set(CentralHousehold.objects.filter(active=True).values_list("household_id", flat=True))
        | set(CentralLink.objects.filter(central__active=True).values_list("household_id", flat=True))
        | set(HelpPair.objects.filter(end_date__isnull=True).values_list("household_id", flat=True))
    )
    assert supported
    rows = dict(_sql("SELECT id, gridmap_without_support(id) FROM gridmap_household"))
    assert {pk for pk, without in rows.items() if not without} == supported


@pytest.mark.parametrize(
    "status, draft, retire, pending",
    [
        ("draft", False, False, True),
        ("published", False, False, False),
        ("published", True, False, True),
        ("published", False, True, True),
        ("retired", False, False, False),
    ],
)
def test_a_grid_is_pending_when_a_draft_a_new_shape_or_a_retirement_waits(db, status, draft, retire, pending):
    shape = "ST_GeomFromText('POLYGON((0 0,0 1,1 1,0 0))', 4326)" if draft else "NULL::geometry"
    assert _sql(f"SELECT gridmap_grid_pending(%s, {shape}, %s)", [status, retire])[0][0] is pending


def test_the_working_shape_is_the_draft_when_there_is_one(db):
    a, b = "ST_GeomFromText('POINT(1 1)', 4326)", "ST_GeomFromText('POINT(2 2)', 4326)"
    assert _sql(f"SELECT ST_AsText(gridmap_working_shape({a}, {b})), ST_AsText(gridmap_working_shape({a}, NULL))") == [
        ("POINT(2 2)", "POINT(1 1)")
    ]


PASTED = {
    "vulnerable tags": re.compile(r"elderly_alone OR\s+\w*\.?disabled", re.I),
    "support triple": re.compile(r"NOT EXISTS \(SELECT 1 FROM gridmap_helppair", re.I),
    "masked name": re.compile(r"repeat\('\*'"),
    "working shape": re.compile(r"coalesce\(\w+\.draft_boundary", re.I),
    "pending": re.compile(r"draft_boundary IS NOT NULL OR", re.I),
    "grid status literal": re.compile(r"status\s*(=|<>)\s*'(published|draft|retired)'"),
}


def test_no_module_pastes_a_rule_that_lives_in_the_database():
    found = []
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: {rule}" for rule, pattern in PASTED.items() if pattern.search(text)]
    assert found == []


def test_the_functions_are_inlined_where_they_sit_in_a_scan(db):
    # An SQL function that is not inlined runs once per row; EXPLAIN VERBOSE would then name it.
    plan = "\n".join(r[0] for r in _sql("EXPLAIN VERBOSE SELECT gridmap_masked_name(head_name) FROM gridmap_household"))
    assert "gridmap_masked_name" not in plan and "repeat" in plan
