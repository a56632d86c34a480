"""Public intake of concerns by QR code (issue #17 item 6). Per community a switch, off by default, and an
unguessable token in the public address (/r/<token>/); the street admin of the community's street (or the system
admin) turns it on, off, or regenerates the token, each change one audit event. A resident's submission passes:
the token (404 when off, wrong or old, the same answer as for a token that never existed), the size limits, the
honeypot, the rate limits per client address and per device (database counters, set-based, under an advisory
lock per community), then workflow.report_public and the one photo gate (photos.store_photos). Refusals are
counted per community, day and reason (IntakeRefusal) and logged, never with an address, device or content.
docs/security.md "Public intake" says how to tune and what to do under abuse."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import math
import secrets

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.models import AuditAction, Community
from gridmap.models.intake import CommunityIntake, ConcernContact, IntakeHit
from gridmap.rules.fields import clean_text, plain_number
from gridmap.services import audit
from gridmap.services.concerns import photos, workflow
from gridmap.services.refused import Refused, not_found

log = logging.getLogger("gridmap.intake")
DEVICE_COOKIE = "gm_device"
_DEVICE_SALT = "gridmap.intake.device"
PHONE_PATTERN = "1[3-9][0-9]{9}"


def _token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits: not guessable, not enumerable


# --- the switch (staff) ---------------------------------------------------------------------------------------


def settings_for(user) -> list[dict]:
    """Every community whose intake ``user`` sets, with its switch and token (empty when never switched on)."""
    own = {i.community_id: i for i in CommunityIntake.objects.filter(community__in=policy.intake_communities_for(user))}
    return [{"community": c, "enabled": bool(own.get(c.pk) and own[c.pk].enabled),
             "token": own[c.pk].token if c.pk in own else ""}
            for c in policy.intake_communities_for(user).order_by("street__name", "name")]  # fmt: skip


@transaction.atomic
def set_intake(user, community_id, *, enabled: bool | None = None, regenerate: bool = False, request=None):
    """Switch a community's public intake on or off, or give it a new token (every old QR code answers 404)."""
    community = policy.intake_communities_for(user).filter(pk=community_id).first() if plain_number(
        community_id) else None  # fmt: skip
    if community is None:
        raise not_found("community")
    intake, _created = CommunityIntake.objects.select_for_update().get_or_create(
        community=community, defaults={"token": _token()}
    )
    changes = {"changed_at": timezone.now()}
    if enabled is not None:
        changes["enabled"] = enabled
    if regenerate:
        changes["token"] = _token()
    CommunityIntake.objects.filter(pk=intake.pk).update(**changes)
    what = "regenerate" if regenerate else "on" if enabled else "off"
    audit.record(user, AuditAction.CONCERN, "community_intake", community.pk, request=request,
                 reason=f"public intake {what}", fields="enabled" if enabled is not None else "token")  # fmt: skip
    intake.refresh_from_db()
    return intake


def intake_of(user, community_id) -> CommunityIntake:
    """A community's intake for its QR code and poster: only when on and in ``user``'s scope."""
    intake = CommunityIntake.objects.select_related("community").filter(
        community__in=policy.intake_communities_for(user), community_id=community_id, enabled=True).first() if plain_number(
        community_id) else None  # fmt: skip
    if intake is None:
        raise not_found("community")
    return intake


def qr_svg(text: str) -> str:
    """The QR code of ``text`` as an SVG document, made here (the qrcode package), no outside service."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2,
                        error_correction=qrcode.constants.ERROR_CORRECT_M)  # fmt: skip
    return image.to_string(encoding="unicode")


# --- the public side ------------------------------------------------------------------------------------------


def refuse(community_id: int | None, reason: str) -> None:
    """Count and log one refused submission: the community, the day and a reason code, nothing personal."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO gridmap_intakerefusal (community_id, day, reason, count) VALUES (%s, current_date, %s, 1) "
            "ON CONFLICT (community_id, day, reason) DO UPDATE SET count = gridmap_intakerefusal.count + 1",
            [community_id, reason[:32]],
        )
    log.warning("public intake refused: %s (community %s)", reason, community_id)


def open_intake(token: str) -> CommunityIntake:
    """The switched-on intake of this token; 404 (the same for off, old, wrong and never issued) otherwise."""
    intake = CommunityIntake.objects.select_related("community").filter(token=token, enabled=True).first() if (
        isinstance(token, str) and 20 <= len(token) <= 43) else None  # fmt: skip
    if intake is None:
        refuse(None, "token")
        raise not_found("token")
    return intake


def device_id(signed: str | None) -> tuple[str, bool]:
    """The device id from its signed cookie, or a new one (``True``: set the cookie)."""
    if signed:
        try:
            return signing.Signer(salt=_DEVICE_SALT).unsign(signed), False
        except signing.BadSignature:
            pass
    return secrets.token_urlsafe(16), True


def signed_device(device: str) -> str:
    return signing.Signer(salt=_DEVICE_SALT).sign(device)


def _key(kind: str, value: str) -> str:
    """A keyed digest of an address or device id: counts without keeping either."""
    secret = settings.SECRET_KEY.encode()
    return hmac.new(secret, f"gridmap intake {kind} {value}".encode(), hashlib.sha256).hexdigest()


def _check_limits(community_id: int, keys: dict[str, str]) -> None:
    """429 with Retry-After when any key has used up the hour's or the day's submissions for this community."""
    limits = ((dt.timedelta(hours=1), settings.CONCERN_INTAKE_PER_HOUR), (dt.timedelta(days=1),
              settings.CONCERN_INTAKE_PER_DAY))  # fmt: skip
    sql = (
        "SELECT kind, count(*) FILTER (WHERE at > now() - %s), "
        "min(at) FILTER (WHERE at > now() - %s), now() FROM gridmap_intakehit "
        "WHERE community_id = %s AND (kind, key) IN ((%s, %s), (%s, %s)) GROUP BY kind"
    )
    for window, limit in limits:
        with connection.cursor() as cursor:
            cursor.execute(sql, [window, window, community_id, "address", keys["address"], "device", keys["device"]])
            for kind, count, oldest, now in cursor.fetchall():
                if count >= limit:
                    wait = min(int(window.total_seconds()), max(1, math.ceil((oldest + window - now).total_seconds())))
                    raise Refused(429, "too_many_requests", field=kind, retry_after=wait,
                                  detail=_("提交太频繁，请 %(m)s 分钟后再试") % {"m": math.ceil(wait / 60)})  # fmt: skip


def _phone(value) -> str:
    text, code = clean_text(value or "", 11, blank=True)
    if code or (text and not (len(text) == 11 and text.isascii() and text.isdigit() and text[0] == "1"
                              and text[1] in "3456789")):  # fmt: skip
        raise Refused(400, "bad_value", field="phone", detail=_("请填写 11 位手机号，或留空"))
    return text


def _point(data: dict):
    from django.contrib.gis.geos import Point

    try:
        lon, lat = float(data.get("lon")), float(data.get("lat"))
    except (TypeError, ValueError):
        raise Refused(400, "required", field="location", detail=_("请在地图上选点或使用定位")) from None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise Refused(400, "bad_value", field="location", detail=_("位置坐标无效"))
    return Point(lon, lat, srid=4326)


def submit(intake: CommunityIntake, data: dict, uploads: list, *, address: str | None, device: str) -> str:
    """One resident's concern: checks, then workflow.report_public and the photo gate, all in one transaction.
    Returns the receipt number (nothing else goes back)."""
    community_id = intake.community_id
    if data.get("website"):  # the honeypot: people do not see this field, form-filling robots fill it
        refuse(community_id, "honeypot")
        raise Refused(400, "rejected", field="", detail=_("提交未被接受"))
    if data.get("consent") not in ("on", "1", "true"):
        refuse(community_id, "consent")
        raise Refused(400, "required", field="consent", detail=_("请确认同意说明"))
    if len(uploads) > settings.CONCERN_INTAKE_PHOTOS:
        refuse(community_id, "photos")
        raise Refused(400, "too_many_files", field="photo",
                      detail=_("最多 %(n)s 张照片") % {"n": settings.CONCERN_INTAKE_PHOTOS})  # fmt: skip
    for upload in uploads:
        if upload.size > settings.CONCERN_INTAKE_PHOTO_MAX_BYTES:
            refuse(community_id, "photo_size")
            raise Refused(413, "too_large", field="photo", detail=_("每张照片不超过 %(mb)s MB") % {
                "mb": settings.CONCERN_INTAKE_PHOTO_MAX_BYTES // (1024 * 1024)})  # fmt: skip
    try:
        text, code = clean_text(data.get("description"), settings.CONCERN_INTAKE_TEXT, blank=False)
        if code:
            raise Refused(400, code, field="description", detail=_("请描述问题，最多 %(n)s 个字") % {
                "n": settings.CONCERN_INTAKE_TEXT})  # fmt: skip
        phone, point = _phone(data.get("phone")), _point(data)
        keys = {"address": _key("address", address or "-"), "device": _key("device", device)}
        with transaction.atomic():
            with connection.cursor() as cursor:  # one submission at a time per community: the count is exact
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x47D1, community_id])
            _check_limits(community_id, keys)
            concern = workflow.report_public(community_id, {"category": data.get("category"), "description": text},
                                             point)  # fmt: skip
            if phone:
                contact = ConcernContact(concern=concern)
                contact.phone = phone
                contact.save()
            if uploads:
                photos.store_photos(concern, uploads)
            IntakeHit.objects.bulk_create([IntakeHit(community_id=community_id, kind=k, key=v)
                                           for k, v in keys.items()])  # fmt: skip
            IntakeHit.objects.filter(community_id=community_id, at__lt=timezone.now() - dt.timedelta(days=1)).delete()
    except Refused as exc:  # counted outside the rolled-back transaction
        refuse(community_id, f"rate_{exc.field}" if exc.status == 429 else f"{exc.code}:{exc.field}")
        raise
    return receipt(concern.pk, concern.created_at)


def receipt(pk: int, created_at) -> str:
    """The receipt a resident keeps: the day and the concern's number (what staff look it up by)."""
    return f"{timezone.localtime(created_at):%Y%m%d}-{pk}"


def community_reference(community: Community) -> str:
    """Roads, water, compounds (and buildings when the community is small) in the community's box, as GeoJSON
    text: orientation for the public map without any tile server (queries/reference.py, the one reading)."""
    from gridmap.queries.reference import reference_layer

    return reference_layer(policy.public_reference_features(), community.boundary.extent)


def community_outline(community: Community) -> str:
    """The community's boundary as GeoJSON for the public map (general data, no households)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_AsGeoJSON(boundary, 6) FROM gridmap_community WHERE id = %s", [community.pk])
        row = cursor.fetchone()
    return row[0] if row and row[0] else "null"
