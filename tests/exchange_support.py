"""Personas of the hand-made small street (fixtures/small_street.geojson) for export and import tests,
and the upload and download helpers those tests share."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from gridmap.models import CentralHousehold, CentralLink, GridAssignment, Household, Member, Profile, Role

EAST, WEST = "110105001001", "110105001002"


@pytest.fixture
def small_people(small_street, django_user_model):
    """Clients logged in as a system admin, the small street's admin, 东社区's staff and a planner."""
    from gridmap.services.grids.rehoming import rehome_households

    rehome_households(household_ids=[h.pk for h in small_street["households"].values()])
    homes = small_street["households"]
    Household.objects.filter(pk=homes["east"].pk).update(is_party_member=True)
    central = CentralHousehold.objects.create(household=homes["east"])
    CentralLink.objects.create(central=central, household=homes["edge"])
    member = Member.objects.create(name="赵网格", phone="13512345678", community=small_street["communities"][EAST])
    GridAssignment.objects.create(
        member=member, grid=small_street["grids"]["110105001001002"], role="leader", start_date=dt.date(2026, 1, 1)
    )
    clients = {}
    for role, extra in (
        ("system_admin", {}),
        ("street_admin", {"street": small_street["street"]}),
        ("community_staff", {"community": small_street["communities"][EAST]}),
        ("planner", {"street": small_street["street"]}),
    ):
        user = django_user_model.objects.create_user(f"ss_{role}")
        Profile.objects.create(user=user, role=role, **extra)
        client = Client()
        client.force_login(user)
        clients[role] = client
    clients["users"] = {
        role: django_user_model.objects.get(username=f"ss_{role}")
        for role in Role.values
        if django_user_model.objects.filter(username=f"ss_{role}").exists()
    }
    return clients


def download(client: Client, layer: str, fmt: str, **post):
    url = f"/api/exports/{layer}.{fmt}"
    response = client.post(url, post) if post else client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def upload(client: Client, layer: str, data: bytes, name: str = "upload.bin", **fields):
    return client.post(f"/api/v1/imports/{layer}", {"file": SimpleUploadedFile(name, data), **fields})


def zipped(entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def small_street_households() -> list[Household]:
    return list(
        Household.objects.filter(address__in=["东社区一号", "东社区二号", "东社区边界号", "西社区一号", "街道外"])
    )
