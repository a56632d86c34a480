"""Reference layer imports as jobs (#16 item 4), on the real database: a small file is imported in the request
(201 with its job), a large one answers 202 with its status URL and runs in a worker (here: ``jobs.run`` after the
upload, as the worker would) whose status gives the step and progress, then the result; a refused file names every
refused row with its reason and saves nothing; kind, rights and street are checked before any job is stored (403
for roles that may not, 404 for another street) and again when the job runs; the data exchange page offers the form
to those who may import, with their streets only, and lists the layers there are."""

from __future__ import annotations

import json

import numpy as np
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from pyproj import Transformer

from gridmap import policy
from gridmap.models import ImportJob, Profile, ReferenceFeature, Street
from gridmap.services.imports import jobs
from tests.test_import_jobs_web import in_worker, status  # noqa: F401  (fixture)

URL = "/api/v1/reference-layers"


def _street(user_for):
    return policy.streets_for(user_for("street_admin")).first()


def _squares(street, n: int = 3) -> list[shapely.Polygon]:
    c = street.boundary.point_on_surface
    return [shapely.box(c.x + 0.0004 * i, c.y, c.x + 0.0004 * i + 0.0003, c.y + 0.0003) for i in range(n)]


def _geojson(geoms, names=None) -> bytes:
    names = names or [f"测试小区{i + 1}" for i in range(len(geoms))]
    features = [
        {"type": "Feature", "properties": {"name": name}, "geometry": json.loads(shapely.to_geojson(g))}
        for g, name in zip(geoms, names, strict=True)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


def _post(client, data, **fields):
    return client.post(URL, {"file": SimpleUploadedFile("layer.geojson", data), **fields})


def test_a_small_file_is_imported_in_the_request_and_answers_its_job(client_for, user_for):
    street = _street(user_for)
    answer = _post(client_for("street_admin"), _geojson(_squares(street)), kind="compound", street=street.pk)
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["features"] == 3 and body["street"] == street.pk and body["job"]["status"] == "done"
    job = ImportJob.objects.get(pk=body["job"]["id"])
    assert job.kind == "reference" and job.target_id == street.pk and job.options["layer"] == "compound"
    assert job.data is None  # the bytes are not kept after the import
    stored = ReferenceFeature.objects.filter(street=street, kind="compound")
    assert sorted(stored.values_list("name", flat=True)) == ["测试小区1", "测试小区2", "测试小区3"]
    assert body["imported_at"].endswith("+08:00") and stored.first().imported_at is not None  # Asia/Shanghai


def test_a_large_file_answers_202_and_the_status_gives_progress_then_the_result(client_for, user_for, in_worker):
    street = _street(user_for)
    client = client_for("street_admin")
    ReferenceFeature.objects.create(kind="building", name="旧楼", street=street, geometry=street.boundary.envelope)
    answer = _post(
        client, _geojson(_squares(street, 5), [f"{i}栋" for i in range(5)]), kind="building", street=street.pk
    )
    assert answer.status_code == 202, answer.content
    pk = answer.json()["id"]
    assert answer["Location"] == f"/api/v1/import-jobs/{pk}" and in_worker == [pk]
    queued = status(client, pk).json()
    assert queued["status"] == "queued" and queued["result"] is None and queued["kind"] == "reference"
    assert ReferenceFeature.objects.filter(street=street, kind="building", name="旧楼").exists()  # not yet
    stages = []
    jobs.run(pk, reporter=lambda stage, fraction: stages.append((stage, fraction)))
    assert [s for s, _ in stages][:2] == ["read", "check"] and stages[-1][0] == "write"
    assert all(a[1] <= b[1] for a, b in zip(stages, stages[1:], strict=False))  # the bar only moves forward
    done = status(client, pk).json()
    assert done["status"] == "done" and done["progress"] == 100 and done["http_status"] == 201
    assert done["result"]["features"] == 5 and done["result"]["replaced"] == 1
    names = set(ReferenceFeature.objects.filter(street=street, kind="building").values_list("name", flat=True))
    assert names == {"0栋", "1栋", "2栋", "3栋", "4栋"}


def test_a_refused_file_names_every_refused_row_and_saves_nothing(client_for, user_for, in_worker):
    street = _street(user_for)
    client = client_for("street_admin")
    ok = _post(client, _geojson(_squares(street, 2)), kind="compound", street=street.pk)
    pk = ok.json()["id"]
    jobs.run(pk)
    before = sorted(ReferenceFeature.objects.values_list("id", flat=True))
    c = street.boundary.point_on_surface
    geoms = [
        *_squares(street, 2),
        shapely.LineString([(c.x, c.y), (c.x + 0.001, c.y)]),  # a line is no compound
        shapely.box(500_000, 4_300_000, 500_100, 4_300_100),  # metres posing as degrees: the wrong CRS
    ]
    answer = _post(client, _geojson(geoms, ["甲", "乙", "丙", "丁"]), kind="compound", street=street.pk)
    pk = answer.json()["id"]
    jobs.run(pk)
    refused = status(client, pk).json()
    assert refused["status"] == "refused" and refused["http_status"] == 400
    result = refused["result"]
    assert result["field"] == "rows[3]" and result["error_count"] == 2
    assert [(e["row"], e["field"], e["code"]) for e in result["errors"]] == [
        (3, "geometry", "geometry_type"),
        (4, "geometry", "looks_projected"),
    ]
    assert "LineString" in result["errors"][0]["detail"] and "坐标系" in result["errors"][1]["detail"]
    assert sorted(ReferenceFeature.objects.values_list("id", flat=True)) == before  # the old layer stays whole


def test_the_wrong_crs_is_refused_by_row_and_the_declared_one_imports(client_for, user_for):
    street = _street(user_for)
    client = client_for("street_admin")
    squares = _squares(street, 2)
    metres = [shapely.transform(g, lambda xy: xy * 111_000.0) for g in squares]  # a projected file without CRS
    undeclared = _post(client, _geojson(metres), kind="compound", street=street.pk)
    assert undeclared.status_code == 400 and undeclared.json()["code"] == "looks_projected"
    assert [e["row"] for e in undeclared.json()["errors"]] == [1, 2]
    to_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
    mercator = [shapely.transform(g, lambda xy: np.column_stack(to_3857.transform(*xy.T))) for g in squares]
    declared = _post(client, _geojson(mercator), kind="compound", street=street.pk, source_crs="EPSG:3857")
    assert declared.status_code == 201, declared.content
    stored = ReferenceFeature.objects.filter(street=street, kind="compound").order_by("name")
    assert stored.count() == 2 and abs(stored[0].geometry.centroid.x - squares[0].centroid.x) < 1e-6


def test_hostile_and_odd_files_answer_4xx_or_import_never_500(client_for, user_for):
    street = _street(user_for)
    client = client_for("street_admin")
    c = street.boundary.point_on_surface
    entity = b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x "y">]><kml><Document>&x;</Document></kml>'
    assert _post(client, entity, kind="road", street=street.pk).json()["field"] == "file"
    assert _post(client, b"\x00\x01garbage", kind="road", street=street.pk).status_code == 400
    nul = _geojson(_squares(street, 1), ["名\u0000字"])
    assert _post(client, nul, kind="compound", street=street.pk).status_code == 400
    bidi = _post(client, _geojson(_squares(street, 1), ["\u202e小区"]), kind="compound", street=street.pk)
    assert bidi.status_code == 400 and bidi.json()["field"] == "rows[1].name"
    bowtie = shapely.Polygon([(c.x, c.y), (c.x + 0.001, c.y + 0.001), (c.x + 0.001, c.y), (c.x, c.y + 0.001)])
    with_z = {"type": "LineString", "coordinates": [[c.x, c.y, 12.0], [c.x + 0.001, c.y, 13.0]]}
    repaired = _post(client, _geojson([bowtie]), kind="compound", street=street.pk)
    assert repaired.status_code == 201 and repaired.json()["features"] == 1  # a self-intersection is repaired
    road = json.dumps({"type": "Feature", "properties": {"name": "高程路"}, "geometry": with_z}).encode()
    assert _post(client, road, kind="road", street=street.pk).status_code == 201
    assert not ReferenceFeature.objects.get(street=street, kind="road").geometry.hasz
    far = shapely.box(c.x + 1, c.y + 1, c.x + 1.001, c.y + 1.001)
    outside = _post(client, _geojson([far]), kind="compound", street=street.pk)
    assert outside.status_code == 400 and "坐标系" in outside.json()["detail"]


def test_kind_rights_and_street_are_checked_before_any_job_is_stored(client_for, user_for):
    street = _street(user_for)
    data = _geojson(_squares(street, 1))
    jobs_before = ImportJob.objects.count()
    for role in ("grid_worker", "grid_leader", "planner", "community_staff"):
        assert _post(client_for(role), data, kind="compound", street=street.pk).status_code == 403, role
    other = Street.objects.exclude(pk=street.pk).first() or Street.objects.create(
        code="152922198", name="邻街道", boundary=street.boundary
    )
    admin = client_for("street_admin")
    assert _post(admin, data, kind="compound", street=other.pk).status_code == 404
    assert _post(admin, data, kind="compound", street="abc").json()["field"] == "street"
    assert _post(admin, data, kind="compounds", street=street.pk).json()["field"] == "kind"
    assert _post(admin, data, kind="compound", street=street.pk, encoding="EBCDIC").json()["field"] == "encoding"
    assert ImportJob.objects.count() == jobs_before
    assert not ReferenceFeature.objects.filter(street=other).exists()


def test_the_rights_hold_when_the_job_runs_and_another_user_cannot_see_it(client_for, user_for, in_worker):
    street = _street(user_for)
    answer = _post(client_for("street_admin"), _geojson(_squares(street, 1)), kind="compound", street=street.pk)
    pk = answer.json()["id"]
    assert status(client_for("system_admin"), pk).status_code == 404  # jobs are their uploader's
    Profile.objects.filter(user=user_for("street_admin")).update(role="planner")  # demoted while it waited
    jobs.run(pk)
    job = ImportJob.objects.get(pk=pk)
    assert job.status == "refused" and job.counts["http_status"] == 403
    assert not ReferenceFeature.objects.filter(street=street, kind="compound").exists()


def test_the_page_offers_the_form_for_the_streets_in_scope_and_lists_the_layers(client_for, user_for):
    street = _street(user_for)
    _post(client_for("street_admin"), _geojson(_squares(street, 2)), kind="compound", street=street.pk)
    page = client_for("street_admin").get("/data/").content.decode()
    assert 'id="reference-form"' in page and f'<option value="{street.pk}">{street.name}</option>' in page
    assert '<option value="">全市</option>' not in page  # the whole city: the system admin's
    assert f'data-layer="compound:{street.pk}"' in page and '<td class="count">2</td>' in page
    assert 'data-layer="road:"' in page  # the demo city's own layers, listed read-only
    assert '<option value="">全市</option>' in client_for("system_admin").get("/data/").content.decode()
    for role in ("community_staff", "planner"):
        assert 'id="reference-form"' not in client_for(role).get("/data/").content.decode()


def test_the_map_layer_is_asked_again_and_changes_with_an_import(client_for, user_for):
    street = _street(user_for)
    client = client_for("grid_worker")
    bbox = ",".join(f"{v:.6f}" for v in street.boundary.extent)
    first = client.get("/api/layers/reference.geojson", {"bbox": bbox})
    assert first["Cache-Control"] == "private, no-cache" and first["ETag"]
    same = client.get("/api/layers/reference.geojson", {"bbox": bbox}, headers={"If-None-Match": first["ETag"]})
    assert same.status_code == 304 and same["ETag"] == first["ETag"]
    _post(client_for("street_admin"), _geojson(_squares(street, 2)), kind="compound", street=street.pk)
    client = client_for("grid_worker")
    after = client.get("/api/layers/reference.geojson", {"bbox": bbox}, headers={"If-None-Match": first["ETag"]})
    assert after.status_code == 200 and after["ETag"] != first["ETag"]
    assert {"测试小区1", "测试小区2"} <= {f["properties"]["name"] for f in after.json()["features"]}
