"""Open311 GeoReport v2 (issue #17): services, a service definition, requests (window, status, paging) and one
request, JSON and XML; submitting with an ``api_key`` lands a concern through the page's own service; the key's
account decides what is seen; errors in the spec's shape."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from gridmap import policy
from gridmap.models.concerns import Concern, ConcernCategory

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(user_for):
    return lambda role: Token.objects.get_or_create(user=user_for(role))[0].key


def _spot(user):
    return policy.grids_for(user).published().order_by("code").first().boundary.point_on_surface


def test_services_in_json_and_xml(client, key):
    services = client.get("/open311/v2/services.json", {"api_key": key("grid_worker")}).json()
    assert {s["service_code"] for s in services} == set(ConcernCategory.objects.values_list("code", flat=True))
    assert all(s["type"] == "realtime" and s["metadata"] is False for s in services)
    xml = ET.fromstring(client.get("/open311/v2/services.xml", {"api_key": key("grid_worker")}).content)
    assert xml.tag == "services" and len(xml.findall("service")) == len(services)
    assert (
        client.get("/open311/v2/services/safety.json", {"api_key": key("grid_worker")}).json()[0]["service_code"]
        == "safety"
    )


def test_a_311_client_submits_and_reads_back_as_the_keys_account(client, key, user_for):
    worker = user_for("grid_worker")
    spot = _spot(worker)
    posted = client.post("/open311/v2/requests.json", {"api_key": key("grid_worker"), "service_code": "sanitation",
                         "lat": spot.y, "long": spot.x, "description": "垃圾桶满溢", "address_string": "幸福路 8 号"})  # fmt: skip
    assert posted.status_code == 201, posted.content
    request_id = posted.json()[0]["service_request_id"]
    stored = Concern.objects.get(pk=request_id)
    assert stored.reporter == worker and stored.source == "hotline_12345" and stored.events.count() == 1
    one = client.get(f"/open311/v2/requests/{request_id}.json", {"api_key": key("grid_worker")}).json()[0]
    assert (one["status"], one["service_code"], one["lat"], one["long"]) == ("open", "sanitation", round(spot.y, 6),
                                                                           round(spot.x, 6))  # fmt: skip
    xml = ET.fromstring(client.get(f"/open311/v2/requests/{request_id}.xml", {"api_key": key("grid_worker")}).content)
    assert xml.find("request/service_request_id").text == request_id
    assert client.get(f"/open311/v2/requests/{request_id}.json", {"api_key": key("planner")}).status_code == 403
    assert client.get("/open311/v2/services.json", {"api_key": "not-a-key"}).status_code == 401


def test_the_default_window_status_and_paging(client, key, user_for):
    worker = user_for("grid_worker")
    category = ConcernCategory.objects.get(code="policy")
    grid = policy.grids_for(worker).published().order_by("code").first()
    made = [Concern.objects.create(category=category, description=f"第 {i} 件", location=_spot(worker), grid=grid,
                                   community=grid.community) for i in range(5)]  # fmt: skip
    Concern.objects.filter(pk=made[0].pk).update(created_at=timezone.now() - dt.timedelta(days=120))
    Concern.objects.filter(pk=made[1].pk).update(state="closed")
    params = {"api_key": key("grid_worker"), "service_code": "policy"}
    listed = [r["service_request_id"] for r in client.get("/open311/v2/requests.json", params).json()]
    assert str(made[0].pk) not in listed and len(listed) == 4  # older than 90 days: outside the default window
    closed = client.get("/open311/v2/requests.json", {**params, "status": "closed"}).json()
    assert [r["service_request_id"] for r in closed] == [str(made[1].pk)]
    page2 = client.get("/open311/v2/requests.json", {**params, "page_size": 3, "page": 2}).json()
    assert len(page2) == 1
    refused = client.get("/open311/v2/requests.json", {**params, "start_date": "yesterday"})
    assert (
        refused.status_code == 400
        and refused.json()[0]["code"] == 400
        and "start_date" in refused.json()[0]["description"]
    )
