"""The write bodies of /api/v1: DRF serializers that validate every field by its one rule
(gridmap/rules/fields.py, geodata.validation) and hand the services clean, typed values.

The page JSON endpoints and the REST viewsets validate the same body with the same serializer, then call
the same service; the services check what needs the database (scope, rights, the grid a point falls in,
the shape against its neighbours). A field refuses with the one refusal (``Refused``: status, code, the
field, the catalogue's reason); DRF's own errors (a missing field) are turned into it by :func:`validated`,
and a key the body may not carry is refused by name (no mass assignment).
"""

from __future__ import annotations

from django.contrib.gis.geos import Point
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from geodata.validation import GeometryRejected, validate_point
from gridmap.models import ResidentType
from gridmap.models.households import TAG_FIELDS
from gridmap.models.stations import StationKind
from gridmap.rules.fields import STATION_RADIUS_MAX_M, id_number_valid, phone_valid, station_radius_ok
from gridmap.services.refused import Refused, checked_text


class RuleField(serializers.Field):
    """A field whose value is checked by one rule and refused with the one refusal. No coercion: a number
    where text belongs is refused, not turned into text."""

    def refuse(self, code: str, detail: str = "") -> None:
        raise Refused(400, code, field=self.field_name, detail=detail)

    def to_representation(self, value):
        return value


@extend_schema_field(OpenApiTypes.STR)
class Text(RuleField):
    """Stripped text of at most ``limit`` characters without hidden characters; empty only if ``blank``."""

    def __init__(self, limit: int, *, blank: bool = False, **kwargs):
        self.limit, self.blank = limit, blank
        super().__init__(**kwargs)

    def to_internal_value(self, value) -> str:
        return self.check(checked_text(value, self.field_name, self.limit, blank=self.blank))

    def check(self, value: str) -> str:
        return value


class Phone(Text):
    def __init__(self, **kwargs):
        super().__init__(11, blank=True, **kwargs)

    def check(self, value: str) -> str:
        if value and not phone_valid(value):
            self.refuse("bad_phone", _("手机号应为 11 位，以 13–19 开头"))
        return value


class IdNumber(Text):
    """GB 11643 (rules/fields.py): 17 digits and the check character; a lower-case x is read as X."""

    def __init__(self, **kwargs):
        super().__init__(18, blank=True, **kwargs)

    def check(self, value: str) -> str:
        value = value.upper()
        if value and not id_number_valid(value):
            self.refuse("bad_id_number", _("身份证号格式或校验位错误"))
        return value


@extend_schema_field(OpenApiTypes.INT)
class WholeNumber(RuleField):
    """An integer (not a bool, not a numeric string) that ``rule`` accepts; ``detail`` (a lazy text or a
    function giving one) says which."""

    def __init__(self, rule, detail, **kwargs):
        self.rule, self.detail = rule, detail
        super().__init__(**kwargs)

    def to_internal_value(self, value) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not self.rule(value):
            self.refuse("bad_value", str(self.detail() if callable(self.detail) else self.detail))
        return value


@extend_schema_field(OpenApiTypes.BOOL)
class Flag(RuleField):
    def to_internal_value(self, value) -> bool:
        if not isinstance(value, bool):
            self.refuse("bad_value", _("应为 true 或 false"))
        return value


@extend_schema_field(OpenApiTypes.STR)
class Choice(RuleField):
    def __init__(self, values, detail="", **kwargs):
        self.values, self.detail = list(values), detail
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        if value not in self.values:
            self.refuse("bad_value", str(self.detail) or ", ".join(map(str, self.values)))
        return value


@extend_schema_field(
    {
        "type": "object",
        "description": "GeoJSON Point, EPSG:4326",
        "properties": {"type": {"enum": ["Point"]}, "coordinates": {"type": "array", "items": {"type": "number"}}},
    }
)
class Location(RuleField):
    """A GeoJSON Point in WGS84 by the one point validator (geodata.validation.validate_point)."""

    def to_internal_value(self, value) -> Point:
        return point(value, self.field_name)


@extend_schema_field({"type": "object", "description": "GeoJSON Polygon or MultiPolygon, EPSG:4326"})
class Shape(RuleField):
    """A GeoJSON polygon, passed on as sent: the grid's one validator (services.grids.shapes) reads it against
    its community and its neighbours."""

    def to_internal_value(self, value):
        return value


def point(value, field: str) -> Point:
    try:
        lon, lat = validate_point(value, field=field)
    except GeometryRejected as exc:
        raise Refused.from_geometry(exc) from None
    return Point(lon, lat, srid=4326)


class Body(serializers.Serializer):
    """A write body: the declared fields and nothing else. ``ignored`` keys are accepted and dropped."""

    ignored: tuple[str, ...] = ()
    unknown_code = "unknown_field"

    def to_internal_value(self, data):
        unknown = [key for key in data if key not in self.fields and key not in self.ignored]
        if unknown:
            raise Refused(400, self.unknown_code, field=unknown[0], detail=_("此字段不可修改"))
        return super().to_internal_value(data)

    def validate(self, attrs):
        if not attrs:
            raise Refused(400, "empty", field="body", detail=_("没有要修改的字段"))
        return attrs


def validated(body: type[Body], data: dict, *, partial: bool = False) -> dict:
    """``data`` (a JSON object, from jsonapi.body or DRF's parser) validated by ``body``; a DRF error (a
    required field left out) becomes the one refusal naming the field."""
    if not isinstance(data, dict):
        raise Refused(400, "not_an_object", field="body", detail=_("请求内容应为 JSON 对象"))
    serializer = body(data=data, partial=partial)
    if not serializer.is_valid():
        field, errors = next(iter(serializer.errors.items()))
        code = getattr(errors[0], "code", "bad_value") if isinstance(errors, list) else "bad_value"
        raise Refused(400, code, field=field, detail=_("必填") if code == "required" else str(errors[0]))
    return dict(serializer.validated_data)


# -- households ----------------------------------------------------------------------------------------


class HouseholdChanges(Body):
    """The details a grid leader may edit (not the grid or the community: they follow from the location)."""

    ignored = ("version",)
    unknown_code = "not_editable"

    address = Text(200, required=False)
    head_name = Text(50, required=False)
    phone = Phone(required=False)
    id_number = IdNumber(required=False)
    residents = WholeNumber(lambda n: 1 <= n <= 99, gettext_lazy("人数应为 1–99"), required=False)
    resident_type = Choice(ResidentType.values, gettext_lazy("未知的居住类型"), required=False)

    def get_fields(self):
        return {**super().get_fields(), **{tag: Flag(required=False) for tag in TAG_FIELDS}}


class HouseholdPatch(HouseholdChanges):
    """REST: the details and/or a new ``location`` (moved by the same service as the page's move)."""

    location = Location(required=False)


class HouseholdMove(Body):
    """The page's move: the new point as ``lon``/``lat``."""

    lon = serializers.JSONField(required=False, allow_null=True)
    lat = serializers.JSONField(required=False, allow_null=True)

    def validate(self, attrs):  # one message for a bad pair, as the point validator words it
        return {"location": point({"lon": attrs.get("lon"), "lat": attrs.get("lat")}, "")}


# -- grids and stations --------------------------------------------------------------------------------


class GridName(Text):
    def __init__(self, **kwargs):
        super().__init__(100, **kwargs)

    def to_internal_value(self, value) -> str:
        try:
            return super().to_internal_value(value)
        except Refused:  # one answer for any bad name, as it always was
            raise Refused(400, "bad_value", field=self.field_name) from None


class GridCreate(Body):
    name = GridName(required=False)
    community = WholeNumber(lambda n: 0 < n < 2**63, gettext_lazy("应为正整数"))
    geometry = Shape(required=False, allow_null=True)
    clip = serializers.JSONField(required=False, help_text="true: cut overlaps with sibling grids off")

    def validate(self, attrs):
        return {**attrs, "clip": attrs.get("clip") is True, "geometry": attrs.get("geometry")}


class GridBoundary(Body):
    ignored = ("version",)

    geometry = Shape()
    clip = serializers.JSONField(required=False)

    def validate(self, attrs):
        return {**attrs, "clip": attrs.get("clip") is True}


class StationBody(Body):
    """A service station; a partial body for PATCH. The radius: 1 to 20,000 m (the one bound in the field rules)."""

    name = Text(100)
    kind = Choice(StationKind.values, required=False)
    radius_m = WholeNumber(
        station_radius_ok,
        lambda: _("服务半径应为 1 到 %(max)s 之间的整数（米）") % {"max": STATION_RADIUS_MAX_M},
        required=False,
    )
    opening_hours = Text(100, blank=True, required=False)
    services = Text(500, blank=True, required=False)
    active = Flag(required=False)
    location = Location()
