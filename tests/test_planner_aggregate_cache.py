"""The planner's aggregates come from a revision-checked cache (queries/aggregate_cache.py): a repeated
request runs no aggregate statement, and every kind of change an aggregate depends on (a household's tags,
a help pair, a station, a central household's link) is seen by the next request, for every cached kind."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gridmap import policy
from gridmap.models import HelpPair, Household, ServiceStation
from gridmap.queries.coverage import grid_coverage
from gridmap.queries.heat import heat_cells

HEAVY = "spans AS MATERIALIZED"  # the lattice of every coverage and heat statement


def _get(client, name, **params):
    response = client.get(reverse(name), params)
    assert response.status_code == 200, response.content
    return response.json()


def _by_grid(answer):
    return {g["grid_id"]: g for g in answer["grids"]}


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("planner-metrics", {"metric": "covered_pct"}),
        ("planner-heat", {"layer": "uncovered"}),
        ("planner-areas", {"level": "community"}),
    ],
)
def test_a_repeated_request_runs_no_aggregate_statement(client_for, name, params):
    client = client_for("street_admin")
    first = _get(client, name, **params)
    with CaptureQueriesContext(connection) as queries:
        again = _get(client, name, **params)
    assert again == first
    assert not [q for q in queries.captured_queries if HEAVY in q["sql"]]


def _needy(user):
    """A vulnerable household without support and outside every radius, in ``user``'s published grids."""
    grids = policy.grids_for(user).published()
    rows = [r for r in grid_coverage(grids) if r["vulnerable_uncovered"]]
    assert rows, "the demo street has vulnerable uncovered households"
    stations = ServiceStation.objects.filter(active=True)
    household = (
        Household.objects.filter(grid_id=rows[0]["grid_id"], vulnerable=True)
        .exclude(pk__in=Household.objects.within_radius_of(stations).values("pk"))
        .extra(where=["gridmap_without_support(gridmap_household.id)"])  # the database's own rule
        .order_by("pk")
        .first()
    )
    return household


def test_a_help_pair_is_seen_by_the_next_request(client_for, user_for):
    user = user_for("street_admin")
    client = client_for("street_admin")
    before = _by_grid(_get(client, "planner-metrics", metric="vulnerable_uncovered"))
    grids = policy.grids_for(user).published()
    fresh_before = {r["grid_id"]: r["vulnerable_uncovered"] for r in grid_coverage(grids)}
    assert {k: v["value"] for k, v in before.items()} == fresh_before
    household = _needy(user)
    HelpPair.objects.create(household=household, unit="区民政局", start_date=dt.date(2026, 3, 1))
    after = _by_grid(_get(client, "planner-metrics", metric="vulnerable_uncovered"))
    fresh_after = {r["grid_id"]: r["vulnerable_uncovered"] for r in grid_coverage(grids)}
    assert {k: v["value"] for k, v in after.items()} == fresh_after
    assert fresh_after != fresh_before  # the pair did change a figure, and the answer followed


def test_a_station_and_a_household_change_are_seen_by_heat_and_areas(client_for, user_for):
    user = user_for("street_admin")
    client = client_for("street_admin")
    grids = policy.grids_for(user).published()
    heat_before = _get(client, "planner-heat", layer="uncovered")
    areas_before = _get(client, "planner-areas", level="community")
    ServiceStation.objects.filter(pk__in=policy.stations_for(user).values("pk")).update(active=False)
    heat_after = _get(client, "planner-heat", layer="uncovered")
    areas_after = _get(client, "planner-areas", level="community")
    assert heat_after != heat_before and areas_after != areas_before
    assert sum(p[2] for p in heat_after["points"]) == sum(c["uncovered"] for c in heat_cells(grids))
    tagged = Household.objects.filter(grid__in=grids, vulnerable=False).order_by("pk").first()
    Household.objects.filter(pk=tagged.pk).update(elderly_alone=True)
    again = _get(client, "planner-areas", level="community")
    assert sum(a["vulnerable"] for a in again["areas"]) == sum(r["vulnerable"] for r in grid_coverage(grids))


@pytest.mark.parametrize("level", ["community", "street", "selection"])
def test_area_sums_from_the_cached_grid_rows_equal_the_sums_of_the_statement(user_for, level):
    from gridmap.queries.coverage_areas import area_coverage

    grids = policy.grids_for(user_for("street_admin")).published()
    assert area_coverage(grids, level, grid_coverage(grids)) == area_coverage(grids, level)


def test_fisher_jenks_is_the_optimum_and_works_for_thousands_of_grids():
    """Our dynamic programme gives mapclassify's breaks; 5,000 values (quantile-reduced) give 5 ordered classes
    ending at the maximum (its speed is measured in bench/planner_view.py, not here)."""
    import mapclassify
    import numpy as np

    from geodata.choropleth import classify

    rng = np.random.default_rng(20261203)
    values = np.sort(rng.gamma(2.0, 10.0, 400))
    assert classify(values)["bins"] == pytest.approx(list(mapclassify.FisherJenks(values, k=5).bins))
    large = rng.gamma(2.0, 10.0, 5000)
    many = classify(large)
    assert len(many["bins"]) == 5 and many["bins"] == sorted(many["bins"]) and many["bins"][-1] == large.max()
