"""Concern photos (issue #17): JPEG/PNG/WebP by content, re-encoded without metadata, at most 2048 px, with a
thumbnail, the EXIF position read first; hostile files (wrong type, polyglot, decompression bomb, huge
dimensions in a tiny header, damaged data, over the size cap, a tenth photo) are 4xx with nothing stored;
served only within the concern's scope."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gridmap import policy
from gridmap.models import ConcernCategory
from gridmap.models.concerns import Concern, ConcernPhoto
from gridmap.services.concerns.photos import read_photo

pytestmark = pytest.mark.django_db


def _image(fmt: str, size=(3000, 1500), exif_gps: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 80, 40))
    out = io.BytesIO()
    kwargs = {}
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "TestCam"  # Make: must not survive
        gps = exif.get_ifd(0x8825)
        gps.update({1: "N", 2: (39.0, 54.0, 0.0), 3: "E", 4: (116.0, 23.0, 24.0)})
        kwargs["exif"] = exif
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` with a few bytes of data (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture
def concern(user_for):
    grid = policy.grids_for(user_for("grid_worker")).published().order_by("code").first()
    return Concern.objects.create(category=ConcernCategory.objects.get(code="facilities"), description="井盖破损",
                                  location=grid.boundary.point_on_surface, grid=grid, community=grid.community)  # fmt: skip


def _upload(client, concern, *files):
    uploads = [SimpleUploadedFile(name, data) for name, data in files]
    return client.post(f"/api/v1/concerns/{concern.pk}/photos", {"photo": uploads, "stage": "report"})


def test_a_photo_is_re_encoded_without_metadata_scaled_with_a_thumbnail(client_for, concern):
    original = _image("JPEG", exif_gps=True)
    photo, thumb, size, position = read_photo(original)
    assert position == pytest.approx((116.39, 39.9), abs=1e-3)  # read before the metadata is dropped
    stored = Image.open(io.BytesIO(photo))
    assert max(stored.size) == 2048 == max(size) and not stored.getexif() and b"TestCam" not in photo
    assert max(Image.open(io.BytesIO(thumb)).size) <= 320
    response = _upload(client_for("grid_worker"), concern, ("a.jpg", original), ("b.png", _image("PNG", (600, 400))),
                       ("c.webp", _image("WEBP", (500, 500))))  # fmt: skip
    assert response.status_code == 201, response.content
    rows = response.json()["photos"]
    assert len(rows) == 3 and all(Path(settings.MEDIA_ROOT, p.path).is_file() for p in concern.photos.all())
    served = client_for("grid_worker").get(rows[0]["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert b"TestCam" not in b"".join(served.streaming_content)


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("gif.jpg", b"GIF89a" + b"\0" * 100, 415),
        ("polyglot.jpg", b"\xff\xd8\xff" + _png_header_only(10, 10), 400),  # JPEG magic, no JPEG inside
        ("bomb.png", _png_header_only(60_000, 60_000), 400),  # 3.6 gigapixels claimed by a 100-byte header
        ("wide.png", _png_header_only(30_000, 10), 400),
        ("damaged.jpg", b"\xff\xd8\xff\xe0" + b"\x13" * 500, 400),
        ("script.png", b"<script>alert(1)</script>", 415),
    ],
)
def test_hostile_files_are_refused_and_nothing_is_stored(client_for, concern, name, data, status):
    response = _upload(client_for("grid_worker"), concern, ("ok.jpg", _image("JPEG", (100, 100))), (name, data))
    assert response.status_code == status, response.content
    assert response.json()["field"] == "photo"
    assert not ConcernPhoto.objects.filter(concern=concern).exists()
    assert not (Path(settings.MEDIA_ROOT) / "concerns" / str(concern.pk)).exists() or not any(
        (Path(settings.MEDIA_ROOT) / "concerns" / str(concern.pk)).iterdir()
    )  # the good photo of the batch was removed too


def test_size_and_count_caps(client_for, concern, settings):
    settings.CONCERN_PHOTO_MAX_BYTES = 1000
    big = _upload(client_for("grid_worker"), concern, ("big.jpg", _image("JPEG", (400, 400))))
    assert big.status_code == 413
    settings.CONCERN_PHOTO_MAX_BYTES = 10 * 1024 * 1024
    small = ("s.jpg", _image("JPEG", (50, 50)))
    assert _upload(client_for("grid_worker"), concern, *[small] * 9).status_code == 201
    tenth = _upload(client_for("grid_worker"), concern, small)
    assert tenth.status_code == 400 and tenth.json()["code"] == "too_many_files"


def test_photos_are_served_only_within_the_concerns_scope(client_for, concern, user_for):
    assert _upload(client_for("grid_worker"), concern, ("a.jpg", _image("JPEG", (80, 80)))).status_code == 201
    url = f"/api/v1/concern-photos/{concern.photos.get().pk}"
    assert client_for("street_admin").get(url).status_code == 200
    assert client_for("planner").get(url).status_code == 403
    other = policy.grids_for(user_for("street_admin")).published().exclude(
        pk__in=policy.grids_for(user_for("grid_leader"))).exclude(pk=concern.grid_id).first()  # fmt: skip
    Concern.objects.filter(pk=concern.pk).update(grid=other)  # now outside the grid leader's grids
    assert client_for("grid_leader").get(url).status_code == 404
