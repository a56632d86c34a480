"""The one exception every service and endpoint raises when it refuses: an HTTP status, a stable machine
code, the field at fault and a readable reason (from the catalogue, gridmap/services/reasons.py, unless
the raiser words it). The API layer turns it into the one JSON error body ``{"code", "field", "detail",
…extra}``; the admin and the imports show ``detail``.
"""

from __future__ import annotations

import json

import shapely
from django.utils.translation import gettext as _

from geodata.validation import GeometryRejected
from gridmap.rules.fields import clean_text
from gridmap.services.reasons import known, reason


class Refused(Exception):
    """A refusal. ``detail`` is the readable reason (the catalogue's text for ``code`` when not given);
    ``location`` (lon, lat) is appended to it and sent as ``location``; ``extra`` carries JSON-ready
    details (overlap polygons as GeoJSON, the current state of a stale object, …)."""

    def __init__(
        self,
        status: int,
        code: str,
        *,
        field: str | None = "",
        detail: str = "",
        location: tuple[float, float] | None = None,
        **extra,
    ):
        self.status, self.code, self.field, self.location, self.extra = status, code, field or "", location, extra
        self.detail = str(detail) if detail else reason(code, location=location)
        super().__init__(self.detail or code)

    @property
    def message(self) -> str:
        return self.detail

    def as_json(self) -> dict:
        body = {"code": self.code, "field": self.field, "detail": self.detail, **self.extra}
        if self.location:
            body["location"] = list(self.location)
        return body

    @classmethod
    def from_geometry(cls, exc: GeometryRejected, field: str | None = None) -> Refused:
        """A refusal of the geometry validator (geodata/validation.py), with its reason translated. A GEOS
        validity reason the catalogue does not know becomes ``invalid_geometry`` carrying GEOS's words."""
        status = 413 if exc.too_large else 409 if exc.code == "overlaps_siblings" else 400
        skip = ("overlaps", "geos")
        extra = {k: (_geojson(v) if hasattr(v, "geom_type") else v) for k, v in exc.extra.items() if k not in skip}
        if "overlaps" in exc.extra:
            extra["overlaps"] = [{**o, "geometry": _geojson(o["geometry"])} for o in exc.extra["overlaps"]]
        code, note = exc.code, exc.detail
        if not known(code):  # a newer GEOS's words (geodata carries them as extra["geos"])
            note = exc.extra.get("geos") or exc.code.replace("_", " ")
            code, extra["geos_reason"] = "invalid_geometry", exc.code
        return cls(
            status,
            code,
            field=field or exc.field,
            location=exc.location,
            detail=reason(code, note=note, location=exc.location),
            **extra,
        )


def checked_text(value, field: str, limit: int, *, blank: bool = False) -> str:
    """The one text rule (rules.fields.clean_text) for a service or a body field: the stripped text, or the
    refusal naming ``field``."""
    clean, code = clean_text(value, limit, blank=blank)
    if code:
        details = {"bad_value": _("应为文本"), "required": _("必填"), "too_long": _("最多 %(n)s 个字符") % {"n": limit}}
        raise Refused(400, code, field=field, detail=details.get(code, ""))
    return clean


def not_found(field: str = "id") -> Refused:
    # One answer for "does not exist" and "not yours": out-of-scope objects must not reveal themselves.
    return Refused(404, "not_found", field=field)


def _geojson(geom: shapely.Geometry) -> dict | None:
    return None if geom.is_empty else json.loads(shapely.to_geojson(geom))
