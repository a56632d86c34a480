"""Helpers shared by the issue #5 tests (people, central households, the grid leader's view)."""

from __future__ import annotations

import json

from gridmap import policy
from gridmap.models import AssignmentRole, Grid, GridAssignment, Household


def post(client, url: str, data: dict | None = None, method: str = "post", *, if_match: str | None = None):
    """A JSON write; ``if_match`` is the object's ETag (gridmap/api/etags.py), as the pages send it."""
    headers = {"If-Match": if_match} if if_match is not None else {}
    return getattr(client, method)(url, data=json.dumps(data or {}), content_type="application/json", headers=headers)


def leader_grid(user) -> Grid:
    return policy.grids_for(user).order_by("code").first()


def other_grid_in_community(grid: Grid) -> Grid:
    """A published grid of the same community: the nearest out-of-scope grid for its leader."""
    return Grid.objects.published().filter(community=grid.community).exclude(pk=grid.pk).order_by("code").first()


def household_in(grid: Grid, **filters) -> Household:
    return Household.objects.filter(grid=grid, **filters).order_by("id").first()


def leaderless_grid(user) -> Grid:
    leaders = GridAssignment.objects.active().filter(role=AssignmentRole.LEADER).values("grid_id")
    return policy.grids_for(user).published().exclude(pk__in=leaders).order_by("code").first()


def etag(kind: str, pk: int) -> str:
    """The current ETag of the object a page would have just read (gridmap/api/etags.py), fresh from the
    database: ``household``, ``help_pair``, ``assignment`` or ``central`` (a household id)."""
    from gridmap.api import etags
    from gridmap.models import HelpPair

    if kind == "central":
        return etags.central(pk)
    model = {"household": Household, "help_pair": HelpPair, "assignment": GridAssignment}[kind]
    return getattr(etags, kind)(model.objects.get(pk=pk))
