"""Households (户), party-member central households (党员中心户) and their linked households."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models import Q
from django.db.models.expressions import ExpressionWrapper, RawSQL
from django.db.models.functions import Left
from django.db.models.lookups import Exact, Range
from django.utils.translation import gettext_lazy as _

from gridmap.storage.sealed_fields import sealed_property


class DigitShape(models.Func):
    """The text with every ASCII digit replaced by ``0`` (PostgreSQL ``translate``): its shape. A
    ``0`` in the shape is a digit in the text, whatever else the text holds."""

    function = "translate"
    output_field = models.CharField()

    def __init__(self, expression, **extra):
        super().__init__(expression, models.Value("123456789"), models.Value("0" * 9), **extra)


# The masked forms of MASK_PATTERN as exact shapes: checked on every row a bulk import writes, a
# translate() and a comparison cost ~0.1 µs where the regular expression costs ~1.5 µs (2.6 s for
# a million households' two columns, docs/performance.md).
MASKED_SHAPES = {
    "id_number": Q(Exact(DigitShape("id_number_masked"), "000000********0000"))
    | Q(Exact(DigitShape("id_number_masked"), "000000********000X")),
    "phone": Q(Exact(DigitShape("phone_masked"), "000****0000"), Range(Left("phone_masked", 2), ("13", "19"))),
}


def sealed_constraints(prefix: str, *kinds: str) -> list:
    """Per sealed value: the masked form has its shape (MASK_PATTERN), and the three columns are all
    set or all empty."""
    constraints = []
    for kind in kinds:
        empty = Q(**{f"{kind}_masked": "", f"{kind}_sealed__isnull": True, f"{kind}_digest__isnull": True})
        full = Q(MASKED_SHAPES[kind], **{f"{kind}_sealed__isnull": False, f"{kind}_digest__isnull": False})
        constraints.append(models.CheckConstraint(condition=empty | full, name=f"{prefix}_{kind}_sealed"))
    return constraints


class ResidentType(models.TextChoices):
    PERMANENT = "permanent", _("常住")
    MIGRANT = "migrant", _("流动")


# Tags a street office records; the vulnerable ones count in the "vulnerable uncovered" metric.
TAG_FIELDS = ("is_party_member", "elderly_alone", "disabled", "low_income", "hardship", "military", "other_difficulty")
# A household's details as registers carry them, in the table's column order (the bulk loaders write them so).
DETAIL_FIELDS = ("address", "head_name", "residents", "resident_type", *TAG_FIELDS)
VULNERABLE_TAGS = ("elderly_alone", "disabled", "low_income", "hardship")


def vulnerable_condition() -> Q:
    """Any of VULNERABLE_TAGS: the expression of ``Household.vulnerable``."""
    condition = Q()
    for tag in VULNERABLE_TAGS:
        condition |= Q(**{tag: True})
    return condition


class HouseholdQuerySet(models.QuerySet):
    def in_grid(self, grid) -> HouseholdQuerySet:
        return self.filter(grid=grid)

    def within_radius_of(self, stations) -> HouseholdQuerySet:
        """Households within the service radius of at least one of ``stations`` (a queryset).

        Why SQL: the radius is geodesic metres on the WGS84 spheroid (geography cast), which
        GeoDjango's ``dwithin`` cannot express for a per-station radius on a 4326 geometry column.
        """
        ids_sql, params = stations.values("id").query.sql_with_params()
        covered = RawSQL(
            "EXISTS (SELECT 1 FROM gridmap_servicestation s WHERE s.id IN (" + ids_sql + ") AND s.active"
            " AND ST_DWithin(s.location::geography, gridmap_household.location::geography, s.radius_m))",
            params,
            output_field=models.BooleanField(),
        )
        return self.alias(in_radius=covered).filter(in_radius=True)

    def vulnerable(self) -> HouseholdQuerySet:
        return self.filter(vulnerable_condition())


class Household(models.Model):
    """A household point. Its grid and community follow from the location (see services.rehoming)."""

    # Unique through Meta.constraints, not unique=True: that would add a second (LIKE pattern) index,
    # one more to maintain and rebuild on every bulk import, for lookups that only ever test equality.
    external_id = models.CharField(_("外部编号"), max_length=64, null=True, blank=True)
    location = models.PointField(_("位置"), srid=4326)
    community = models.ForeignKey(
        "gridmap.Community",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="households",
        verbose_name=_("社区"),
    )
    grid = models.ForeignKey(
        "gridmap.Grid",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="households",
        verbose_name=_("网格"),
    )
    address = models.CharField(_("地址"), max_length=200)
    head_name = models.CharField(_("户主"), max_length=50)
    # Phone and ID number are sealed at rest (gridmap.storage.sealed_fields): ciphertext, keyed digest, masked form.
    phone_sealed = models.BinaryField(_("电话（密文）"), null=True, editable=False)
    phone_digest = models.BinaryField(_("电话（索引）"), null=True, editable=False, db_index=True)
    phone_masked = models.CharField(_("电话"), max_length=11, blank=True, default="", db_default="", editable=False)
    id_number_sealed = models.BinaryField(_("身份证号（密文）"), null=True, editable=False)
    id_number_digest = models.BinaryField(_("身份证号（索引）"), null=True, editable=False, db_index=True)
    id_number_masked = models.CharField(
        _("身份证号"), max_length=18, blank=True, default="", db_default="", editable=False
    )
    residents = models.PositiveSmallIntegerField(_("人数"), default=1)
    resident_type = models.CharField(
        _("居住类型"), max_length=10, choices=ResidentType.choices, default=ResidentType.PERMANENT
    )
    is_party_member = models.BooleanField(_("党员户"), default=False)
    elderly_alone = models.BooleanField(_("独居老人"), default=False)
    disabled = models.BooleanField(_("残疾"), default=False)
    low_income = models.BooleanField(_("低保"), default=False)
    hardship = models.BooleanField(_("特困"), default=False)
    military = models.BooleanField(_("军属/优抚"), default=False)
    other_difficulty = models.BooleanField(_("其他困难"), default=False)
    # The one definition of a vulnerable household (docs/domain.md): any of VULNERABLE_TAGS. PostgreSQL keeps
    # the column, so every query (coverage, heat, what-if, layers, the leader's page) reads h.vulnerable.
    vulnerable = models.GeneratedField(
        expression=ExpressionWrapper(vulnerable_condition(), output_field=models.BooleanField()),
        output_field=models.BooleanField(),
        db_persist=True,
        verbose_name=_("困难群体"),
    )
    source_crs = models.CharField(_("来源坐标系"), max_length=20, default="WGS84")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = HouseholdQuerySet.as_manager()
    phone = sealed_property("phone")  # reading decrypts: only the audited reveal does that
    id_number = sealed_property("id_number")

    class Meta:
        verbose_name = _("住户")
        verbose_name_plural = _("住户")
        constraints = [
            models.CheckConstraint(condition=Q(residents__gte=1), name="household_residents_positive"),
            # Per community, not global: a key held in another scope must neither clash nor tell (no oracle).
            models.UniqueConstraint(fields=["community", "external_id"], name="household_external_id_unique"),
            *sealed_constraints("household", "id_number", "phone"),
        ]

    def __str__(self) -> str:
        return self.address


class CentralHousehold(models.Model):
    """党员中心户: a party-member household that links about ten neighbours."""

    household = models.OneToOneField(
        Household, on_delete=models.CASCADE, related_name="central", verbose_name=_("住户")
    )
    active = models.BooleanField(_("有效"), default=True)
    designated_on = models.DateField(_("设立日期"), auto_now_add=True)

    class Meta:
        verbose_name = _("党员中心户")
        verbose_name_plural = _("党员中心户")

    def __str__(self) -> str:
        return str(self.household)


class CentralLink(models.Model):
    """联系户: a household linked to one central household (at most one)."""

    central = models.ForeignKey(
        CentralHousehold, on_delete=models.CASCADE, related_name="links", verbose_name=_("党员中心户")
    )
    household = models.OneToOneField(
        Household, on_delete=models.CASCADE, related_name="central_link", verbose_name=_("联系户")
    )
    linked_on = models.DateField(_("联系日期"), auto_now_add=True)

    class Meta:
        verbose_name = _("联系户")
        verbose_name_plural = _("联系户")
