"""The grid page (queries/grid_households.grid_page) served from a freshness-checked cache.

Why: the page's statement costs ~15 ms of database time for a 500-household grid, so two cores cannot
serve 200 pages a second by running it each time (bench/leader_view.py). The page only changes when a
row that feeds it changes, and triggers (migration 0006) move a revision counter for every such change:
per grid (households, the grid, central households, links) and globally (stations, staffing, members'
logins, communities, profiles: what may change a scope or the nearest station). Each request reads the
two counters and checks the grid is in the user's scope in ONE indexed statement; the cache key holds
both counters, so a cached page is served only while nothing it was built from has changed, whichever
gunicorn worker (each has its own local cache) answers.

What is cached: only this masked page (names masked in SQL, no phone, no ID number); reveals never pass
through here. Variants: per role and profile scope for managers (the page depends on nothing else of the
user), per user for field staff (their scope is their own assignments).

The counters are read before the page is built: a page built after a concurrent write is newer than its
key, never older, and the write's own bump retires that key.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import caches
from django.db import connection

from gridmap import policy
from gridmap.queries import layers
from gridmap.queries.grid_households import grid_page, named_ids

TIMEOUT_SECONDS = 600


def _store(key: str, text: str) -> None:
    if len(text) <= settings.PAGE_CACHE_MAX_BYTES:  # a 5,000-household viewport is not worth 1 MB a worker
        caches["pages"].set(key, text, TIMEOUT_SECONDS)


_REVISION = """
SELECT (SELECT revision FROM gridmap_pagerevision WHERE grid_id = %(grid)s),
       (SELECT revision FROM gridmap_pagerevision WHERE grid_id = 0),
       EXISTS (SELECT 1 FROM gridmap_grid WHERE id = %(grid)s AND id IN ({grids}))
"""


def scope_variant(user) -> str:
    """What a cached answer for ``user`` depends on besides the data: the role and scope (per user for field staff)."""
    profile = policy.profile_of(user)
    if profile.role in policy.FIELD_ROLES:
        return f"user{user.pk}"
    return f"{profile.role}.{profile.street_id}.{profile.community_id}"


def page_key(user, grid_id: int) -> str | None:
    """The cache key of ``grid_id``'s page for ``user`` at the current revisions; None out of scope."""
    grids, params = named_ids(policy.grids_for(user), "g")
    with connection.cursor() as cursor:
        cursor.execute(_REVISION.format(grids=grids), {"grid": grid_id, **params})
        revision, everything, in_scope = cursor.fetchone()
    if not in_scope:
        return None
    return f"grid-page:{grid_id}:{revision}:{everything}:{scope_variant(user)}"


def etag_of(key: str) -> str:
    return '"' + hashlib.sha1(key.encode()).hexdigest()[:20] + '"'


def cached_grid_page(user, grid_id: int) -> tuple[str, str] | None:
    """(JSON text, ETag) of ``grid_id``'s page for ``user``, from the cache when fresh; None out of scope."""
    key = page_key(user, grid_id)
    if key is None:
        return None
    text = caches["pages"].get(key)
    if text is None:
        text = grid_page(user, grid_id)
        if text is None:  # left the scope between the two statements
            return None
        _store(key, text)
    return text, etag_of(key)


# The household layer of a box: its households belong to grids whose published boundary covers them, so
# the grids whose box meets the box hold every one (households in no grid move the global counter).
# Revisions come from one ever-growing sequence: any bump among those grids makes a new maximum, and a
# grid leaving or joining the set changes the count (or, when it joins by a boundary change, the maximum).
_LAYER_REVISION = """
SELECT (SELECT revision FROM gridmap_pagerevision WHERE grid_id = 0), max(r.revision), count(*)
  FROM gridmap_grid g LEFT JOIN gridmap_pagerevision r ON r.grid_id = g.id
 WHERE g.boundary && ST_MakeEnvelope(%s, %s, %s, %s, 4326)
"""


def cached_households_layer(user, bbox) -> str:
    """``layers.households_layer`` of ``user``'s households in ``bbox`` (masked names, no phone or ID
    number), from the cache while no grid meeting the box has changed. Without a box: not cached."""
    households = policy.households_for(user)
    if bbox is None:
        return layers.households_layer(households, None)
    with connection.cursor() as cursor:
        cursor.execute(_LAYER_REVISION, list(bbox))
        everything, newest, grids = cursor.fetchone()
    key = (
        f"household-layer:{','.join(repr(float(v)) for v in bbox)}:{everything}:{newest}:{grids}:{scope_variant(user)}"
    )
    text = caches["pages"].get(key)
    if text is None:
        text = layers.households_layer(households, bbox)
        _store(key, text)
    return text
