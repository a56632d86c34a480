"""The ETag of every object a page reads and may then write: the one concurrency rule's tokens.

A write to an existing object sends ``If-Match: <etag>``; the JSON of every such object carries the same
string as its ``etag`` property (quotes included), and a GET of one object sends it as the ``ETag`` header.

- grid: ``"<version>"`` (the version the grid services compare under the community lock);
- household: ``"<updated_at in microseconds>"`` (every household write moves ``updated_at``);
- station: the content digest of services/stations/editing.py;
- assignment, help pair: their dates (the only write to either is ending it); member: its content digest;
- central household: its state and the digest of its linked households;
- community (publish, fix a sliver): the digest of its grids' ids and versions, so a publish is of the
  grids the editor showed;
- concern: ``"<version>"`` (every transition moves it);
- concern webhook delivery: its id, status and attempts (a retry is of the row the page showed);
- household import job: its id and status (a commit is of the preview the page showed).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from gridmap.models import CentralHousehold, CentralLink, Grid, GridStatus
from gridmap.queries.concern_deliveries import delivery_etag

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def grid(obj) -> str:
    return f'"{obj.version}"'


def concern(obj) -> str:
    """A concern's row version (every transition moves it: services/concerns/workflow.py)."""
    return f'"{obj.version}"'


concern_delivery = delivery_etag  # a webhook delivery: its status and attempts (the page renders the same)


def household(obj) -> str:
    # Exact integer microseconds (a float timestamp can be off by one); the grid page's SQL writes the same.
    return f'"{(obj.updated_at - _EPOCH) // dt.timedelta(microseconds=1)}"'


def dated(start: str, end: str | None) -> str:
    """An assignment's or help pair's ETag from its ISO dates (rows built as JSON use this form)."""
    return f'"{start}~{end or ""}"'


def assignment(obj) -> str:
    return dated(obj.start_date.isoformat(), obj.end_date.isoformat() if obj.end_date else None)


help_pair = assignment  # the same rule: the only write to either is ending it


def member(obj) -> str:
    # No write to an existing member exists yet; the digest is ready for the first (content, like a station).
    return f'"{_digest(obj.name, obj.phone_masked, obj.is_party_member, obj.employer, obj.community_id)}"'


def central(household_id: int) -> str:
    found = CentralHousehold.objects.filter(household_id=household_id).values_list("pk", "active").first()
    if found is None:
        return '"none"'
    links = sorted(CentralLink.objects.filter(central_id=found[0]).values_list("household_id", flat=True))
    return f'"{_digest(*found, *links)}"'


def community(community_id: int) -> str:
    rows = (
        Grid.objects.filter(community_id=community_id)
        .exclude(status=GridStatus.RETIRED)
        .order_by("pk")
        .values_list("pk", "version", "status", "retire_on_publish")
    )
    return f'"{_digest(*rows)}"'


def job_state(job_id: int, status: str) -> str:
    """An import job's ETag from its id and status (the status JSON carries both)."""
    return f'"{job_id}-{status}"'


def import_job(job) -> str:
    return job_state(job.pk, job.status)
