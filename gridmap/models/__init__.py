"""The domain: one module per concept."""

from gridmap.models.accounts import LoginAttempt, Profile, Role
from gridmap.models.areas import Community, Grid, GridStatus, GridVersion, Street
from gridmap.models.audit import AuditAction, AuditEvent
from gridmap.models.concern_deliveries import ConcernDelivery, DeliveryStatus
from gridmap.models.concerns import Concern, ConcernCategory, ConcernEvent, ConcernState, StreetDeadline
from gridmap.models.coverage import CoverageStation, GridCoverage
from gridmap.models.households import CentralHousehold, CentralLink, Household, ResidentType
from gridmap.models.imports import ImportJob, ImportStatus
from gridmap.models.intake import CommunityIntake, ConcernContact, IntakeHit, IntakeRefusal
from gridmap.models.people import AssignmentRole, GridAssignment, HelpPair, Member
from gridmap.models.proposals import ProposedStation, StationProposal
from gridmap.models.reference import ReferenceFeature, ReferenceKind
from gridmap.models.stations import ServiceStation, StationKind
from gridmap.models.visits import Visit

__all__ = [
    "CoverageStation",
    "GridCoverage",
    "Concern",
    "ConcernCategory",
    "ConcernEvent",
    "ConcernDelivery",
    "DeliveryStatus",
    "ConcernState",
    "StreetDeadline",
    "Street",
    "Community",
    "Grid",
    "GridStatus",
    "GridVersion",
    "Household",
    "ResidentType",
    "CentralHousehold",
    "CentralLink",
    "Member",
    "GridAssignment",
    "AssignmentRole",
    "HelpPair",
    "ServiceStation",
    "StationKind",
    "Profile",
    "Role",
    "LoginAttempt",
    "AuditAction",
    "AuditEvent",
    "Visit",
    "ImportJob",
    "ImportStatus",
    "CommunityIntake",
    "ConcernContact",
    "IntakeHit",
    "IntakeRefusal",
    "StationProposal",
    "ProposedStation",
    "ReferenceFeature",
    "ReferenceKind",
]
