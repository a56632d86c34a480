"""Phones and ID numbers sealed at rest (issue #9): a dump holds no plaintext, the reveal still opens them,
writers seal, lookups go through the keyed digest, a wrong or missing key is a clear error, rotation works."""

from __future__ import annotations

import base64
import os
import re
import subprocess

import pytest
from django.db import IntegrityError, connection, transaction

from gridmap.apps import data_key_check
from gridmap.models import AuditEvent, Household, Member
from gridmap.services.people import members as member_service
from gridmap.storage import sealed_fields as sf
from tests.people_support import etag, household_in, leader_grid, post

ID_RE, PHONE_RE = re.compile(r"\d{17}[\dXx]"), re.compile(r"1[3-9]\d{9}")
KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()


def _plaintexts() -> set[str]:
    values = set()
    for sealed in Household.objects.exclude(id_number_sealed=None).values_list("id_number_sealed", flat=True):
        values.add(sf.unseal("id_number", sealed))
    for model in (Household, Member):
        for sealed in model.objects.exclude(phone_sealed=None).values_list("phone_sealed", flat=True):
            values.add(sf.unseal("phone", sealed))
    return values


def test_a_database_dump_holds_no_plaintext_id_number_or_phone(db):
    plaintexts = _plaintexts()
    assert len(plaintexts) > 1000  # the demo street's ID numbers and phones, opened with the key
    db_settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db_settings["PASSWORD"] or ""}
    dump = subprocess.run(
        [
            "/usr/lib/postgresql/15/bin/pg_dump",
            "-h",
            db_settings["HOST"] or "127.0.0.1",
            "-p",
            str(db_settings["PORT"] or 5432),
            "-U",
            db_settings["USER"],
            db_settings["NAME"],
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    candidates = set(ID_RE.findall(dump)) | set(PHONE_RE.findall(dump))
    assert candidates & plaintexts == set()
    # the dump did contain the households: their masked forms are there (a positive control)
    masked = Household.objects.exclude(id_number_masked="").values_list("id_number_masked", flat=True)[:50]
    assert all(m in dump for m in masked) and len(masked) == 50
    assert not re.search(r"^\s+(phone|id_number) character varying", dump, re.M)


def test_seal_and_unseal_round_trip_with_a_fresh_nonce_and_the_key_id():
    first, second = sf.seal_many("phone", ["13812345678", "13812345678"])
    assert first != second and first[0] == second[0] == 1 and len(first) == sf.SEALED_LENGTH["phone"]
    assert sf.unseal("phone", first) == "13812345678" and sf.unseal("phone", None) == ""
    assert sf.seal_many("phone", ["", "13912345678"])[0] is None
    with pytest.raises(sf.SealError):  # the kind is bound in: a sealed phone is no ID number
        sf.unseal("id_number", first)


def test_batch_sealing_is_standard_gcm_that_the_library_opens():
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ids = ["11010519491231002X", "152922198001011234"] * 200 + ["", "1101051949123100", "张三丰"]
    tokens = sf.seal_many("id_number", ids)  # above BATCH_MIN: the batch path, with three odd values
    assert len(ids) >= sf.BATCH_MIN and tokens[400] is None
    assert [sf.unseal("id_number", t) for t in tokens] == ids
    assert len({t[1:13] for t in tokens if t}) == len(ids) - 1  # a fresh nonce per value
    aead = AESGCM(sf._derive(__import__("django.conf").conf.settings.SECRET_KEY.encode(), b"data key"))
    assert aead.decrypt(tokens[0][1:13], tokens[0][13:], bytes([sf.KINDS["id_number"]])) == b"11010519491231002X"
    with pytest.raises(sf.SealError):  # a flipped bit fails the tag
        sf.unseal("id_number", tokens[0][:-1] + bytes([tokens[0][-1] ^ 1]))


def test_the_vectorised_helpers_agree_with_the_single_value_ones():
    ids = ["11010519491231002X", "", "152922198001011234", "11010519491231002X"]
    digests = sf.digest_many("id_number", ids)
    assert digests == [sf.digest("id_number", v) for v in ids]
    assert digests[0] == digests[3] != digests[2] and digests[1] is None and len(digests[0]) == 16
    assert sf.digest("phone", "13812345678") != sf.digest("id_number", "13812345678")  # kinds kept apart
    assert sf.mask_many("id_number", ids).tolist() == [
        "110105********002X",
        "",
        "152922********1234",
        "110105********002X",
    ]
    assert sf.mask("phone", "13812345678") == "138****5678" and sf.mask("phone", "12") == "**"


def test_the_database_refuses_a_malformed_masked_form_or_a_half_sealed_value(db, small_street):
    from django.contrib.gis.geos import Point

    point = Point(116.402, 39.904, srid=4326)
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.create(location=point, address="a", head_name="b", phone="12345")
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.create(location=point, address="a", head_name="b", phone_masked="138****5678")


def test_edit_seals_and_reveal_opens_the_new_values(client_for, user_for):
    household = household_in(leader_grid(user_for("grid_leader")))
    client = client_for("grid_leader")
    response = post(
        client,
        f"/api/v1/households/{household.pk}/card",
        {"phone": "13700001111", "id_number": "11010519491231002x"},
        method="patch",
        if_match=etag("household", household.pk),
    )
    assert response.status_code == 200, response.content
    row = (
        Household.objects.filter(pk=household.pk)
        .values("phone_sealed", "phone_digest", "phone_masked", "id_number_masked", "id_number_digest")
        .get()
    )
    assert b"13700001111" not in bytes(row["phone_sealed"]) and row["phone_masked"] == "137****1111"
    assert bytes(row["phone_digest"]) == sf.digest("phone", "13700001111")
    assert row["id_number_masked"] == "110105********002X"  # normalised to upper case before sealing
    assert bytes(row["id_number_digest"]) == sf.digest("id_number", "11010519491231002X")
    revealed = post(client, f"/api/v1/households/{household.pk}/reveal", {"reason": "核对电话"}).json()
    assert (revealed["phone"], revealed["id_number"]) == ("13700001111", "11010519491231002X")
    # a bad value is refused before anything is sealed or saved
    assert (
        post(
            client,
            f"/api/v1/households/{household.pk}/card",
            {"phone": "12345"},
            method="patch",
            if_match=etag("household", household.pk),
        ).status_code
        == 400
    )
    assert Household.objects.get(pk=household.pk).phone_masked == "137****1111"


def test_a_wrong_key_gives_a_clear_503_and_an_audit_row_not_a_500(client_for, user_for, settings):
    household = household_in(leader_grid(user_for("grid_leader")), phone_sealed__isnull=False)
    client = client_for("grid_leader")
    settings.GRIDMAP_DATA_KEY = KEY_B  # not the key the demo data was sealed with
    response = post(client, f"/api/v1/households/{household.pk}/reveal", {"reason": "核对电话"})
    assert response.status_code == 503
    assert response.json()["code"] == "data_key_error" and "密钥" in response.json()["detail"]
    assert AuditEvent.objects.get(action="reveal", object_id=str(household.pk)).result == "failed"
    assert client.get(f"/api/v1/households/{household.pk}/card").status_code == 200  # masked card still works


def test_key_rotation_honours_the_key_id(settings):
    settings.GRIDMAP_DATA_KEY, settings.GRIDMAP_DATA_KEY_ID = KEY_A, 1
    old = sf.seal("id_number", "11010519491231002X")
    settings.GRIDMAP_DATA_KEY, settings.GRIDMAP_DATA_KEY_ID, settings.GRIDMAP_DATA_OLD_KEYS = KEY_B, 2, f"1:{KEY_A}"
    new = sf.seal("id_number", "11010519491231002X")
    assert (old[0], new[0]) == (1, 2)
    assert sf.unseal("id_number", old) == sf.unseal("id_number", new) == "11010519491231002X"
    settings.GRIDMAP_DATA_OLD_KEYS = ""
    with pytest.raises(sf.SealError, match="1"):
        sf.unseal("id_number", old)


def test_reseal_moves_every_row_to_the_current_key(db, settings):
    from django.core.management import call_command

    phone = Member.objects.exclude(phone_sealed=None).order_by("pk").first()
    plain = phone.phone
    old_key = base64.b64encode(sf._derive(settings.SECRET_KEY.encode(), b"data key")).decode()
    settings.GRIDMAP_DATA_KEY, settings.GRIDMAP_DATA_KEY_ID, settings.GRIDMAP_DATA_OLD_KEYS = KEY_B, 7, f"1:{old_key}"
    call_command("reseal_personal_data", verbosity=0)
    phone.refresh_from_db()
    assert bytes(phone.phone_sealed)[0] == 7 and phone.phone == plain
    assert bytes(phone.phone_digest) == sf.digest("phone", plain)  # the index follows the new key
    settings.GRIDMAP_DATA_OLD_KEYS = ""  # the old key is no longer needed
    assert Member.objects.get(pk=phone.pk).phone == plain
    assert member_service.search(Member.objects.all(), plain).filter(pk=phone.pk).exists()


@pytest.mark.parametrize(
    "key, key_id, old, message",
    [
        ("", 1, "", "GRIDMAP_DATA_KEY"),
        ("not base64!", 1, "", "base64"),
        (base64.b64encode(b"x" * 16).decode(), 1, "", "32"),
        (KEY_A, 300, "", "1–255"),
        (KEY_A, 2, "one:two", "GRIDMAP_DATA_OLD_KEYS"),
    ],
)
def test_the_system_check_names_a_missing_or_bad_key_outside_demo_mode(settings, key, key_id, old, message):
    settings.DEMO_MODE, settings.DEBUG = False, False
    settings.GRIDMAP_DATA_KEY, settings.GRIDMAP_DATA_KEY_ID, settings.GRIDMAP_DATA_OLD_KEYS = key, key_id, old
    errors = data_key_check()
    assert [e.id for e in errors] == ["gridmap.E101"] and message in errors[0].msg
    settings.GRIDMAP_DATA_KEY, settings.GRIDMAP_DATA_KEY_ID, settings.GRIDMAP_DATA_OLD_KEYS = KEY_A, 1, ""
    assert data_key_check() == []


def test_members_are_found_by_whole_phone_through_the_digest_and_by_visible_digits(db):
    member = Member.objects.create(name="诸葛亮", phone="13911112222")
    everyone = Member.objects.all()
    assert list(member_service.search(everyone, "13911112222")) == [member]
    assert member in member_service.search(everyone, "2222") and member in member_service.search(everyone, "139")
    assert member not in member_service.search(everyone, "13911112223")
    assert Member.objects.filter(pk=member.pk).values_list("phone_masked", flat=True).get() == "139****2222"


@pytest.mark.parametrize(
    "kind, candidates",
    [
        (
            "id_number",
            [
                "110105********003X",
                "110105********0031",
                "110105********003x",
                "11010X********0031",
                "110105********00X1",
                "000000********000X",
                "110105*******00031",
                "1101050********031",
                "１10105********0031",
                "DDDDDD********DDDD",
                "110105********003",
                "*10105********0031",
                "110105*********031",
            ],
        ),
        (
            "phone",
            [
                "138****5678",
                "199****0000",
                "120****5678",
                "118****5678",
                "238****5678",
                "138****567X",
                "13*****5678",
                "1380***5678",
                "１38****5678",
                "000****0000",
                "13a****5678",
            ],
        ),
    ],
)
def test_the_masked_shape_check_accepts_exactly_the_mask_pattern(db, kind, candidates):
    # The table's check (a translate() shape, cheap for bulk loads) must accept what MASK_PATTERN does.
    table = "household"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", [f"{table}_{kind}_sealed"]
        )
        definition = cursor.fetchone()[0]
        assert "~" not in definition  # no regular expression per row
        accepted = {}
        for value in candidates:
            try:
                with transaction.atomic():
                    cursor.execute(
                        "INSERT INTO gridmap_household (location, address, head_name, residents,"
                        " resident_type, is_party_member, elderly_alone, disabled, low_income, hardship,"
                        f" military, other_difficulty, source_crs, updated_at, {kind}_sealed, {kind}_digest,"
                        f" {kind}_masked) VALUES (ST_SetSRID(ST_MakePoint(116.4, 39.9), 4326), 'a', 'b', 1,"
                        " 'permanent', false, false, false, false, false, false, false, 'WGS84', now(),"
                        " '\\x01', '\\x02', %s)",
                        [value],
                    )
                    accepted[value] = True
                    transaction.set_rollback(True)
            except IntegrityError:
                accepted[value] = False
    assert accepted == {value: re.fullmatch(sf.MASK_PATTERN[kind], value) is not None for value in candidates}
    assert sum(accepted.values()) >= 2 and not all(accepted.values())


def test_import_stages_only_sealed_values(small_street):
    import io

    from gridmap.services.households.importing import import_households_csv

    same_id = Household.objects.filter(id_number_digest=sf.digest("id_number", "11010519000707003X"))  # new to the DB
    before = same_id.count()
    header = "经度,纬度,地址,户主,电话,身份证号,人数,外部编号\n"
    west = next(iter(small_street["grids"].values())).boundary.point_on_surface
    body = header + f"{west.x},{west.y},幸福路9号,李四,13812340000,11010519000707003x,2,S-1\n"
    result = import_households_csv(io.BytesIO(body.encode()), source_crs="WGS84")
    assert result.ok, result.errors
    household = Household.objects.get(external_id="S-1")
    assert (household.phone, household.id_number) == ("13812340000", "11010519000707003X")
    assert (household.phone_masked, household.id_number_masked) == ("138****0000", "110105********003X")
    assert same_id.count() == before + 1 and same_id.filter(external_id="S-1").exists()


def test_the_bulk_columns_match_the_single_value_helpers():
    phones = ["13812345678", "19900001111"]
    sealed, digests, masked = sf.sealed_columns("phone", phones)
    assert [sf.unseal("phone", row.tobytes()) for row in sealed] == phones
    assert [d.tobytes() for d in digests] == sf.digest_many("phone", phones)
    assert [m.decode() for m in masked] == ["138****5678", "199****1111"]
    with pytest.raises(ValueError):  # the bulk path takes only validated values of the kind's length
        sf.sealed_columns("phone", ["1381234567"])
    with pytest.raises(ValueError):
        sf.sealed_columns("id_number", ["11010519491231002x"])
