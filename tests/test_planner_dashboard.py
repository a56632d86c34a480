"""Planner dashboard (issue #6): the metric table and the heat cells agree with grid_coverage, planners get
"<5" for small sensitive counts and no thin heat cells, and every role sees only its own grids."""

from __future__ import annotations

import doctest
import re

import pytest
from django.conf import settings
from django.urls import reverse

import geodata.choropleth
from geodata.choropleth import classify
from gridmap import policy
from gridmap.models import Grid
from gridmap.queries.coverage import grid_coverage
from gridmap.queries.heat import heat_cells
from gridmap.services.grids.rehoming import rehome_households

SMALL = "110105001"  # the small_street fixture's street code


def _metrics(client, **params):
    response = client.get(reverse("planner-metrics"), params)
    assert response.status_code == 200, response.content
    return response.json()


def test_class_breaks_are_deterministic_and_cover_every_value():
    assert doctest.testmod(geodata.choropleth).failed == 0
    values = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144]
    first, second = classify(values, k=5), classify(values, k=5)
    assert first == second and first["scheme"] == "fisher_jenks" and len(first["bins"]) == 5
    assert first["bins"][-1] == 144 and all(v <= first["bins"][c] for v, c in zip(values, first["classes"]))
    quantiles = classify(values, k=5, scheme="quantiles")
    assert sorted(quantiles["classes"]) == quantiles["classes"] and quantiles["classes"][-1] == 4


def test_small_street_figures_by_hand(small_street, client_for):
    # west and edge (on the shared edge: lowest code wins) in grid 001, east in 002, both within the 500 m
    # station; "other" in the west community's grid, out of reach; "outside" in no grid.
    rehome_households(household_ids=[h.pk for h in small_street["households"].values()])
    table = _metrics(client_for("system_admin"), metric="covered_pct")
    mine = [g for g in table["grids"] if g["code"].startswith(SMALL)]
    assert [(g["code"][-6:], g["households"], g["value"]) for g in mine] == [
        ("002001", 1, 0.0),
        ("001001", 2, 100.0),
        ("001002", 1, 100.0),
    ]  # worst first, then by code
    worst = mine[0]
    assert {p["code"] for p in worst["problems"]} == {"no_leader", "no_fulltime", "size_under", "low_coverage"}
    assert "low_coverage" not in {p["code"] for p in mine[1]["problems"]}
    assert table["legend"] and table["legend"][0]["class"] == 0 and "%" in table["legend"][0]["label"]

    cells = heat_cells(Grid.objects.filter(code__startswith=SMALL))
    assert sorted(c["households"] for c in cells) == [1, 1, 1, 1]  # four households ~250 m apart
    assert sum(c["uncovered"] for c in cells) == 1 and sum(c["vulnerable_uncovered"] for c in cells) == 0
    other = small_street["households"]["other"].location
    uncovered = next(c for c in cells if c["uncovered"])
    assert abs(uncovered["lon"] - other.x) < 0.003 and abs(uncovered["lat"] - other.y) < 0.003


def test_the_table_agrees_with_grid_coverage_for_every_metric(client_for, user_for):
    admin = user_for("street_admin")
    rows = {r["grid_id"]: r for r in grid_coverage(policy.grids_for(admin).published())}
    client = client_for("street_admin")
    legends = set()
    for metric in ("households", "covered_pct", "linked_pct", "per_fulltime", "vulnerable_uncovered", "size_band"):
        table = _metrics(client, metric=metric)
        assert {g["grid_id"] for g in table["grids"]} == set(rows)
        key = "households" if metric == "size_band" else metric
        assert all(g["value"] == rows[g["grid_id"]][key] for g in table["grids"])
        legends.add(tuple(e["label"] for e in table["legend"]))
        ranked = [g["value"] for g in table["grids"] if g["value"] is not None]
        if metric in ("covered_pct", "linked_pct"):
            assert ranked == sorted(ranked)  # smaller is worse: first
        if metric == "vulnerable_uncovered":
            assert ranked == sorted(ranked, reverse=True)
        assert all(g["class"] is None or 0 <= g["class"] < table["classes"] for g in table["grids"])
    assert len(legends) == 6  # the legend changes with the metric
    staffed = [g for g in table["grids"] if rows[g["grid_id"]]["staffed"]]
    assert staffed and all(not {"no_leader", "no_fulltime"} & {p["code"] for p in g["problems"]} for g in staffed)


def test_heat_cells_add_up_to_grid_coverage(user_for):
    grids = policy.grids_for(user_for("planner")).published()
    rows, cells = grid_coverage(grids), heat_cells(grids)
    assert sum(c["households"] for c in cells) == sum(r["households"] for r in rows) == 15_000
    assert sum(c["uncovered"] for c in cells) == sum(r["households"] - r["covered"] for r in rows) > 0
    assert sum(c["vulnerable_uncovered"] for c in cells) == sum(r["vulnerable_uncovered"] for r in rows) > 0


def test_planners_see_small_sensitive_counts_as_less_than_5(client_for, user_for):
    rows = {r["grid_id"]: r for r in grid_coverage(policy.grids_for(user_for("planner")).published())}
    small = {gid for gid, r in rows.items() if 0 < r["vulnerable_uncovered"] < settings.SMALL_COUNT_MIN}
    assert small, "the demo street has grids with 1-4 vulnerable uncovered households"
    table = _metrics(client_for("planner"), metric="vulnerable_uncovered")
    for g in table["grids"]:
        true = rows[g["grid_id"]]["vulnerable_uncovered"]
        assert g["value"] == g["vulnerable_uncovered"] == ("<5" if g["grid_id"] in small else true)
        total = rows[g["grid_id"]]["vulnerable"]
        assert g["vulnerable"] == ("<5" if 0 < total < 5 else total)
    # "<5" is a class of its own, between the grids with none and those with 5 or more.
    labels = [e["label"] for e in table["legend"]]
    lt5 = next(i for i, label in enumerate(labels) if label.startswith("<5"))
    assert labels[0].startswith("0 ") and lt5 == 1 and table["suppressed_below"] == 5
    for g in table["grids"]:
        true = rows[g["grid_id"]]["vulnerable_uncovered"]
        assert g["class"] == (0 if true == 0 else lt5 if g["grid_id"] in small else g["class"])
        assert true < 5 or g["class"] > lt5
    assert not any(0 < b < 5 for b in table["classification"]["bins"])  # no break betrays a hidden count
    # The street admin of the same street sees the numbers.
    admin = _metrics(client_for("street_admin"), metric="vulnerable_uncovered")
    assert {g["grid_id"]: g["value"] for g in admin["grids"]} == {k: r["vulnerable_uncovered"] for k, r in rows.items()}


@pytest.mark.parametrize("layer", ["households", "uncovered", "vulnerable_uncovered"])
def test_planners_get_no_heat_cell_of_fewer_than_5(client_for, user_for, layer):
    cells = heat_cells(policy.grids_for(user_for("planner")).published())
    body = client_for("planner").get(reverse("planner-heat"), {"layer": layer}).json()
    kept = [
        c for c in cells if c[layer] and c["households"] >= 5 and (layer != "vulnerable_uncovered" or c[layer] >= 5)
    ]
    assert len(body["points"]) == len(kept) and all(p[2] >= 1 for p in body["points"])
    assert body["suppressed_cells"] == sum(1 for c in cells if c[layer]) - len(kept)
    assert set(body) == {"layer", "cell_m", "points", "max", "suppressed_cells", "suppressed_below"}
    assert all(len(p) == 3 for p in body["points"])  # a cell centre and a count: no household
    admin = client_for("street_admin").get(reverse("planner-heat"), {"layer": layer}).json()
    assert sum(p[2] for p in admin["points"]) == sum(c[layer] for c in cells) and admin["suppressed_cells"] == 0


def test_community_staff_see_only_their_community(client_for, user_for):
    staff = user_for("community_staff")
    own = set(policy.grids_for(staff).published().values_list("id", flat=True))
    street = set(policy.grids_for(user_for("street_admin")).published().values_list("id", flat=True))
    assert own and own < street
    client = client_for("community_staff")
    assert {g["grid_id"] for g in _metrics(client, metric="households")["grids"]} == own
    heat = client.get(reverse("planner-heat"), {"layer": "households"}).json()
    assert sum(p[2] for p in heat["points"]) == sum(
        r["households"] for r in grid_coverage(Grid.objects.filter(id__in=own))
    )


@pytest.mark.parametrize("role", ["grid_leader", "grid_worker"])
def test_grid_staff_are_refused(client_for, role):
    client = client_for(role)
    assert client.get(reverse("planner-dashboard")).status_code == 403
    assert client.get(reverse("planner-metrics")).status_code == 403
    assert client.get(reverse("planner-heat")).status_code == 403


def test_bad_choices_answer_400(client_for):
    client = client_for("planner")
    assert client.get(reverse("planner-metrics"), {"metric": "id_number"}).status_code == 400
    assert client.get(reverse("planner-metrics"), {"scheme": "random"}).status_code == 400
    assert client.get(reverse("planner-heat"), {"layer": "households;drop"}).status_code == 400


def test_the_page_offers_the_metrics_and_loads_leaflet_heat(client_for):
    html = client_for("planner").get(reverse("planner-dashboard")).content.decode()
    assert 'id="metric"' in html and "vulnerable_uncovered" in html and "leaflet-heat.js" in html
    assert "<script>" not in html.replace("<script nonce=", "")  # no inline script without the nonce


def test_the_dashboard_speaks_english_too(client_for):
    client = client_for("planner")
    client.post("/i18n/setlang/", {"language": "en", "next": "/planner/"})
    html = client.get(reverse("planner-dashboard")).content.decode()
    assert "Planner dashboard" in html and "Station coverage" in html and "Grids ranked (worst first)" in html
    table = client.get(reverse("planner-metrics"), {"metric": "size_band"}).json()
    assert table["label"] == "Grid size band" and table["legend"][1]["label"].endswith("households")
    assert "Allowed values" in client.get(reverse("planner-metrics"), {"metric": "x"}).json()["detail"]


def test_the_offline_report_is_one_self_contained_file(client_for, user_for):
    from gridmap.models import AuditEvent, Household

    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = client_for("planner").get(reverse("planner-report"), {"metric": "vulnerable_uncovered"})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    page = response.content.decode()
    assert re.findall(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=", page) == []  # every asset inlined
    assert '<script src="/static' not in page and "L.heatLayer" in page and "<5" in page
    assert "巴丹吉林社区第1网格" in page  # the ranking table
    addresses = list(Household.objects.values_list("address", flat=True)[:50])
    assert not any(a in page for a in addresses)  # no resident in a planner's file
    event = AuditEvent.objects.get(action="export", object_type="planner_report", id__gt=before)  # exactly one
    assert event.username == user_for("planner").username and event.fields == "vulnerable_uncovered"
    assert client_for("grid_leader").get(reverse("planner-report")).status_code == 403
