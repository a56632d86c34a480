"""Every stored field, classified (PIPL Art. 51, ASVS V14.1.1): general, personal or sensitive.

A test fails when a model gains a field that is not listed here, so nobody adds personal data without
deciding how it is shown, masked, exported and logged. Sensitive: precise home location, ID numbers,
disability, low income, party membership and the other difficulty tags (PIPL Art. 28).
"""
from __future__ import annotations

GENERAL, PERSONAL, SENSITIVE = "general", "personal", "sensitive"

_AREA = {"id": GENERAL, "code": GENERAL, "name": GENERAL, "boundary": GENERAL}

CLASSIFICATION: dict[str, dict[str, str]] = {
    "Street": _AREA,
    "Community": {**_AREA, "street": GENERAL, "kind": GENERAL},
    "Grid": {**_AREA, "community": GENERAL, "status": GENERAL, "version": GENERAL, "updated_at": GENERAL,
             "updated_by": PERSONAL, "draft_boundary": GENERAL, "retire_on_publish": GENERAL},
    "GridVersion": {"id": GENERAL, "grid": GENERAL, "number": GENERAL, "boundary": GENERAL, "status": GENERAL,
                    "reason": GENERAL, "created_by": PERSONAL, "created_at": GENERAL},
    "Household": {
        "id": GENERAL, "external_id": GENERAL, "community": GENERAL, "grid": GENERAL, "source_crs": GENERAL,
        "updated_at": GENERAL, "residents": PERSONAL, "resident_type": PERSONAL, "address": PERSONAL,
        "head_name": PERSONAL, "location": SENSITIVE,
        # sealed at rest (gridmap.storage.sealed_fields): ciphertext and keyed digest keep the value's class
        "phone_sealed": PERSONAL, "phone_digest": PERSONAL, "phone_masked": PERSONAL,
        "id_number_sealed": SENSITIVE, "id_number_digest": SENSITIVE, "id_number_masked": SENSITIVE,
        "is_party_member": SENSITIVE, "elderly_alone": SENSITIVE, "disabled": SENSITIVE, "low_income": SENSITIVE,
        "hardship": SENSITIVE, "military": SENSITIVE, "other_difficulty": SENSITIVE, "vulnerable": SENSITIVE,
    },
    "CentralHousehold": {"id": GENERAL, "household": PERSONAL, "active": GENERAL, "designated_on": GENERAL},
    "CentralLink": {"id": GENERAL, "central": PERSONAL, "household": PERSONAL, "linked_on": GENERAL},
    "ServiceStation": {"id": GENERAL, "name": GENERAL, "kind": GENERAL, "location": GENERAL, "radius_m": GENERAL,
                       "community": GENERAL, "opening_hours": GENERAL, "services": GENERAL, "active": GENERAL},
    "Member": {"id": GENERAL, "name": PERSONAL, "pinyin_initials": PERSONAL, "phone_sealed": PERSONAL,
               "phone_digest": PERSONAL, "phone_masked": PERSONAL,
               "is_party_member": SENSITIVE, "employer": PERSONAL, "community": PERSONAL, "user": GENERAL},
    "GridAssignment": {"id": GENERAL, "member": PERSONAL, "grid": GENERAL, "role": GENERAL, "start_date": GENERAL,
                       "end_date": GENERAL},
    "HelpPair": {"id": GENERAL, "household": SENSITIVE, "member": PERSONAL, "unit": GENERAL,
                 "start_date": GENERAL, "end_date": GENERAL},
    "Profile": {"id": GENERAL, "user": GENERAL, "role": GENERAL, "street": GENERAL, "community": GENERAL,
                "planner_streets": GENERAL},
    "LoginAttempt": {"id": GENERAL, "username": PERSONAL, "address": PERSONAL, "succeeded": GENERAL, "at": GENERAL},
    "AuditEvent": {"id": GENERAL, "user": PERSONAL, "username": PERSONAL, "at": GENERAL, "action": GENERAL,
                   "object_type": GENERAL, "object_id": GENERAL, "fields": GENERAL, "reason": PERSONAL,
                   "ip": PERSONAL, "result": GENERAL},
    "Visit": {"id": GENERAL, "household": PERSONAL, "visited_on": GENERAL, "user": PERSONAL, "visitor": PERSONAL,
              "note": SENSITIVE, "created_at": GENERAL},
    "ImportJob": {"id": GENERAL, "user": PERSONAL, "filename": PERSONAL, "sha256": GENERAL, "source_crs": GENERAL,
                  "dry_run": GENERAL, "status": GENERAL, "stage": GENERAL, "progress": GENERAL, "data": SENSITIVE,
                  "worker_pid": GENERAL, "backend_pid": GENERAL, "created_at": GENERAL, "heartbeat": GENERAL,
                  "finished_at": GENERAL, "counts": GENERAL, "errors": GENERAL, "error_count": GENERAL,
                  "points": SENSITIVE},
    "StationProposal": {"id": GENERAL, "name": GENERAL, "street": GENERAL, "author": PERSONAL, "created": GENERAL},
    "ProposedStation": {"id": GENERAL, "proposal": GENERAL, "station": GENERAL, "location": GENERAL,
                        "radius_m": GENERAL},
}


def classification_of(model_name: str, field_name: str) -> str | None:
    return CLASSIFICATION.get(model_name, {}).get(field_name)
