"""Photos of a concern: JPEG, PNG or WebP by content (the magic bytes and the decoder must agree, so a polyglot
is refused), at most CONCERN_PHOTO_MAX_BYTES, dimensions read from the header and capped before anything is
decoded (decompression bombs), the GPS position read from EXIF first, then decoded, turned upright,
scaled to at most CONCERN_PHOTO_SIDE and re-encoded as JPEG without any metadata, with a thumbnail. Files live
under MEDIA_ROOT/concerns/<concern id>/; rows in ConcernPhoto; served only by api/concerns.py."""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from gridmap import policy
from gridmap.models.concerns import ConcernPhoto
from gridmap.services.refused import Refused, not_found

MAGIC = {"JPEG": (b"\xff\xd8\xff",), "PNG": (b"\x89PNG\r\n\x1a\n",)}
THUMB_SIDE = 320
GPS_IFD = 0x8825


def _kind(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return next((kind for kind, prefixes in MAGIC.items() if head.startswith(prefixes)), None)


def _degrees(value) -> float:
    d, m, s = (float(x) for x in value)
    return d + m / 60 + s / 3600


def exif_position(image: Image.Image) -> tuple[float, float] | None:
    """(lon, lat) from the photo's EXIF GPS block, or None."""
    try:
        gps = image.getexif().get_ifd(GPS_IFD)
        lat, lon = _degrees(gps[2]), _degrees(gps[4])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    lat = -lat if gps.get(1) == "S" else lat
    lon = -lon if gps.get(3) == "W" else lon
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


def read_photo(data: bytes, field: str = "photo") -> tuple[bytes, bytes, tuple[int, int], tuple[float, float] | None]:
    """(photo JPEG, thumbnail JPEG, (width, height), EXIF position) of an upload, or the refusal naming why."""
    if len(data) > settings.CONCERN_PHOTO_MAX_BYTES:
        raise Refused(413, "too_large", field=field, detail=_("照片超过大小上限"))
    kind = _kind(data[:16])
    if kind is None:
        raise Refused(415, "unsupported_media_type", field=field, detail=_("照片应为 JPEG、PNG 或 WebP"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            if image.format != kind:  # the content says one type, the decoder reads another: a polyglot
                raise Refused(415, "unsupported_media_type", field=field, detail=_("照片内容与类型不符"))
            width, height = image.size
            if width * height > settings.CONCERN_PHOTO_MAX_PIXELS or max(width, height) > 20_000:
                raise Refused(400, "too_many_pixels", field=field, detail=_("照片尺寸过大"))
            position = exif_position(image)
            image.load()
            image = ImageOps.exif_transpose(image).convert("RGB")
    except Refused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:  # fmt: skip
        raise Refused(400, "bad_image", field=field, detail=_("照片已损坏或无法读取")) from exc
    image.thumbnail((settings.CONCERN_PHOTO_SIDE, settings.CONCERN_PHOTO_SIDE))
    photo = io.BytesIO()
    image.save(photo, "JPEG", quality=85)  # no exif= : nothing of the original's metadata is kept
    thumb_image = image.copy()
    thumb_image.thumbnail((THUMB_SIDE, THUMB_SIDE))
    thumb = io.BytesIO()
    thumb_image.save(thumb, "JPEG", quality=80)
    return photo.getvalue(), thumb.getvalue(), image.size, position


@transaction.atomic
def add_photos(user, concern_id: int, uploads: list, stage: str = "report") -> list[ConcernPhoto]:
    """Store the uploads as photos of a concern in the user's scope; all or none (files of a refused batch are
    removed)."""
    concern = policy.concerns_for(user).select_for_update().filter(pk=concern_id).first()
    if concern is None:
        raise not_found("concern")
    return store_photos(concern, uploads, stage, user)


def store_photos(concern, uploads: list, stage: str = "report", user=None) -> list[ConcernPhoto]:
    """The one gate every photo passes (also the public intake's, ``user`` None): count, size, content, re-encoding;
    all or none. The caller holds the concern (in its scope, locked, or just created)."""
    if not uploads:
        raise Refused(400, "required", field="photo", detail=_("请选择照片"))
    if concern.photos.count() + len(uploads) > settings.CONCERN_PHOTOS_MAX:
        raise Refused(400, "too_many_files", field="photo",
                      detail=_("每件诉求最多 %(n)s 张照片") % {"n": settings.CONCERN_PHOTOS_MAX})  # fmt: skip
    folder = Path(settings.MEDIA_ROOT) / "concerns" / str(concern.pk)
    written, rows = [], []
    try:
        for upload in uploads:
            data = upload.read(settings.CONCERN_PHOTO_MAX_BYTES + 1)
            photo, thumb, (width, height), _position = read_photo(data)
            folder.mkdir(parents=True, exist_ok=True)
            name = uuid.uuid4().hex
            for suffix, content in ((".jpg", photo), ("_thumb.jpg", thumb)):
                target = folder / f"{name}{suffix}"
                target.write_bytes(content)
                written.append(target)
            rows.append(ConcernPhoto(concern=concern, stage=stage, path=f"concerns/{concern.pk}/{name}.jpg",
                                     thumb_path=f"concerns/{concern.pk}/{name}_thumb.jpg", width=width,
                                     height=height, sha256=hashlib.sha256(data).hexdigest(), uploaded_by=user))  # fmt: skip
        return ConcernPhoto.objects.bulk_create(rows)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def photo_file(user, photo_id: int, *, thumb: bool = False) -> Path:
    """The file of a photo whose concern is in the user's scope (404 otherwise)."""
    photo = ConcernPhoto.objects.filter(pk=photo_id, concern__in=policy.concerns_for(user)).first()
    if photo is None:
        raise not_found("photo")
    return Path(settings.MEDIA_ROOT) / (photo.thumb_path if thumb else photo.path)
