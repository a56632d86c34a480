"""Saving a what-if scenario as a station proposal: the proposal, its stations and the audit event commit
together or not at all."""

from __future__ import annotations

from django.contrib.gis.geos import Point
from django.db import transaction

from gridmap.models import AuditAction, ProposedStation, StationProposal, Street
from gridmap.queries.what_if import StationChange
from gridmap.services import audit


@transaction.atomic
def save_proposal(user, name: str, street: Street, changes: list[StationChange], *, request=None) -> StationProposal:
    """Create the proposal of ``changes`` (validated by ``scenarios.parse_changes``) and audit it."""
    proposal = StationProposal.objects.create(name=name, street=street, author=user)
    ProposedStation.objects.bulk_create(
        [
            ProposedStation(
                proposal=proposal,
                station_id=c.station_id,
                location=Point(c.lon, c.lat, srid=4326),
                radius_m=int(c.radius_m),
            )
            for c in changes
        ]
    )
    audit.record(user, AuditAction.PROPOSE, "proposal", proposal.pk, request=request, fields=f"stations={len(changes)}")
    return proposal


def changes_of(proposal: StationProposal) -> list[StationChange]:
    """A saved proposal's stations as changes again. A moved station that was since removed from the map
    (``station`` set null) counts as a new one at the proposed place."""
    return [StationChange(s.station_id, s.location.x, s.location.y, float(s.radius_m)) for s in proposal.stations.all()]
