"""Value rules once (gridmap/rules/fields.py): the scalar and vectorised forms agree on one table of cases, and
every path that takes the value uses the same bounds: a station imported at 15 km is editable through the API,
20 km + 1 m is refused everywhere, and the same hidden characters are refused in every text field."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gridmap.models import ServiceStation
from gridmap.rules import fields
from gridmap.rules.fields import STATION_RADIUS_MAX_M

IDS = ["11010519491231002X", "110105194912310021", "440524188001010014", "440524188001010015", "000000000000000000"]
TEXTS = [
    "张三",
    "张\u202e三",
    "李\u200b四",
    "王\x00五",
    "a\tb",
    "行\r\n二",
    "\ufeff赵",
    "x\u2066y",
    "x\u2060y",
    "钱\x7f",
    "孙\ud800",
    "正常的地址 1 号",
]


def test_the_id_check_digit_is_the_same_in_both_forms():
    shaped = [value for value in IDS if fields.ID_NUMBER.match(value)]
    vector = fields.id_numbers_valid(np.array(shaped))
    assert list(vector) == [fields.id_number_valid(value) for value in shaped]
    assert list(vector) == [True, False, True, False, False]


PHONES = ["13812345678", "19912345678", "12812345678", "1381234567", "138123456789", "1381234567x", "１３８12345678"]


def test_the_phone_rule_is_the_same_in_both_forms():
    vector = fields.phones_valid(np.array(PHONES))
    assert list(vector) == [fields.phone_valid(value) for value in PHONES]
    assert list(vector) == [True, True, False, False, False, False, False]


def test_hidden_characters_are_the_same_in_both_forms():
    values = np.array(TEXTS)
    assert list(fields.rows_with_hidden(values, TEXTS)) == [bool(fields.hidden_character(t)) for t in TEXTS]
    assert [bool(fields.hidden_character(t)) for t in TEXTS] == [
        False,
        True,
        True,
        True,
        False,
        False,
        True,
        True,
        True,
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    "value, ok",
    [
        (1, True),
        (15_000, True),
        (STATION_RADIUS_MAX_M, True),
        (0, False),
        (STATION_RADIUS_MAX_M + 1, False),
        (True, False),
        (500.0, False),
    ],
)
def test_the_station_radius_bounds(value, ok):
    assert fields.station_radius_ok(value) is ok


def _send(client, method, url, body=None, **headers):
    response = getattr(client, method)(
        url, "" if body is None else json.dumps(body), content_type="application/json", headers=headers
    )
    return response.status_code, response


def test_a_station_of_15_km_is_editable_through_the_api_and_20_km_and_a_metre_is_refused(client_for):
    client = client_for("street_admin")
    station = ServiceStation.objects.order_by("id").first()
    ServiceStation.objects.filter(pk=station.pk).update(radius_m=15_000)  # as an import may store it
    url = f"/api/v1/stations/{station.pk}/"
    etag = _send(client, "get", url)[1]["ETag"]
    got, response = _send(client, "patch", url, {"name": "十五公里站"}, If_Match=etag)
    assert got == 200 and response.json()["properties"]["radius_m"] == 15_000
    got, response = _send(client, "patch", url, {"radius_m": STATION_RADIUS_MAX_M + 1}, If_Match=response["ETag"])
    assert got == 400 and response.json()["field"] == "radius_m"
    assert ServiceStation.objects.get(pk=station.pk).radius_m == 15_000


@pytest.mark.parametrize("text", ["张\u202e三", "李\u200b四"])
def test_the_same_hidden_characters_are_refused_in_station_and_household_fields(client_for, user_for, text):
    from gridmap import policy

    client = client_for("street_admin")
    station = ServiceStation.objects.order_by("id").first()
    url = f"/api/v1/stations/{station.pk}/"
    etag = _send(client, "get", url)[1]["ETag"]
    got, response = _send(client, "patch", url, {"name": text}, If_Match=etag)
    assert got == 400 and response.json()["code"] == "bidi_control" and response.json()["field"] == "name"
    household = policy.households_for(user_for("street_admin")).first()
    url = f"/api/v1/households/{household.pk}/"
    etag = _send(client, "get", url)[1]["ETag"]
    got, response = _send(client, "patch", url, {"address": text}, If_Match=etag)
    assert got == 400 and response.json()["code"] == "bidi_control" and response.json()["field"] == "address"


def test_an_unknown_geos_reason_is_shown_translated_with_geos_words(monkeypatch):
    import shapely
    from django.utils import translation

    from geodata.validation import GeometryRejected, validate_geojson
    from gridmap.services.refused import Refused

    monkeypatch.setattr(shapely, "is_valid_reason", lambda geom: "Holes are nested[116.40 39.90]")
    square = {"type": "Polygon", "coordinates": [[[116.4, 39.9], [116.41, 39.9], [116.41, 39.91], [116.4, 39.9]]]}
    with pytest.raises(GeometryRejected) as rejected:
        validate_geojson(square)
    with translation.override("zh-hans"):
        refused = Refused.from_geometry(rejected.value)
        assert (refused.code, refused.extra["geos_reason"]) == ("invalid_geometry", "holes_are_nested")
        assert refused.message.startswith("几何无效") and refused.message.endswith("（Holes are nested）")
    with translation.override("en"):
        refused = Refused.from_geometry(rejected.value)
        assert refused.message.startswith("Invalid geometry at 116.400000 39.900000")
        assert "holes_are_nested" not in refused.as_json()["detail"] and "geos" not in refused.as_json()
