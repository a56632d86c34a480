"""Django admin: LeafletGeoAdmin for every geometry model (local Leaflet, never the OpenLayers CDN),
with every queryset scoped through the policy module for staff who are not superusers.

The admin is no way around the services (issue #15): for a street admin every model whose writes have rules of
their own (streets, communities and grids: the editor's validator and publish flow and the layer import;
households: the home rule and the leader's page; stations; members: the registry) is read-only here; he changes
them on the pages, through the same gate as everyone. Only the superuser writes here, through the same form
validators where a model has one."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from leaflet.admin import LeafletGeoAdmin

from gridmap import models, policy
from gridmap.admin import accounts as account_admin
from gridmap.models import Role
from gridmap.services.grids.rehoming import rehome_households
from gridmap.services.grids.shapes import to_geos

SCOPES = {
    models.Street: policy.streets_for,
    models.Community: policy.communities_for,
    models.Grid: policy.grids_for,
    models.Household: policy.households_for,
    models.ServiceStation: policy.stations_for,
    models.Member: policy.members_for,
    models.GridVersion: policy.grid_versions_for,
    models.GridAssignment: policy.assignments_for,
    models.HelpPair: policy.help_pairs_for,
    models.CentralHousehold: policy.central_households_for,
    models.CentralLink: policy.central_links_for,
    models.Profile: policy.profiles_for,
    get_user_model(): policy.accounts_for,
    models.AuditEvent: policy.audit_events_for,
}


class ScopedMixin:
    """Superusers see everything; a street admin (staff) works on the rows of his street; nobody else."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=SCOPES[self.model](request.user).values("pk"))

    def _street_admin(self, request) -> bool:
        return request.user.is_staff and policy.role_of(request.user) == Role.STREET_ADMIN

    def has_module_permission(self, request):
        return request.user.is_superuser or self._street_admin(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or self._street_admin(request)

    has_change_permission = has_view_permission
    has_add_permission = has_module_permission

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Choices for street/community/grid come from the same scope: nobody files a row elsewhere.
        scope = SCOPES.get(db_field.related_model)
        if scope is not None and not request.user.is_superuser:
            kwargs["queryset"] = scope(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        scope = SCOPES.get(db_field.related_model)
        if scope is not None and not request.user.is_superuser:
            kwargs["queryset"] = scope(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ReadOnlyScopedMixin(ScopedMixin):
    """Rows written by a service of their own (areas and grids, households, stations, members, publishing,
    staffing, central households, help pairs): a street admin reads his street's rows here and changes them on
    the pages, through those services."""

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser


class AreaAdminForm(forms.ModelForm):
    """A street's or community's boundary by the layer import's rules (services.layers.importing): valid, inside
    its street, no overlap with its siblings, its children still inside. The superuser's only way in here."""

    def clean(self):
        from gridmap.services.layers.importing import check_area_boundary
        from gridmap.services.refused import Refused

        data = super().clean()
        boundary = data.get("boundary")
        area = self.instance
        if isinstance(area, models.Community):
            if data.get("street") is None:
                return data  # the form names the missing street
            area.street = data["street"]
        if boundary is not None:
            try:
                data["boundary"] = to_geos(check_area_boundary(area, boundary))
            except Refused as exc:
                self.add_error("boundary", exc.message)
        return data


@admin.register(models.Street)
class StreetAdmin(ReadOnlyScopedMixin, LeafletGeoAdmin):
    form = AreaAdminForm
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(models.Community)
class CommunityAdmin(ReadOnlyScopedMixin, LeafletGeoAdmin):
    form = AreaAdminForm
    list_display = ("code", "name", "street", "kind")
    list_filter = ("kind",)
    search_fields = ("code", "name")


class GridAdminForm(forms.ModelForm):
    """The admin's boundary goes through the same validator as the editor, the API and imports."""

    class Meta:
        model = models.Grid
        exclude = ("status", "version", "draft_boundary", "retire_on_publish", "updated_by")

    def clean(self):
        import shapely

        from gridmap.services.grids.shapes import check_grid_shape
        from gridmap.services.refused import Refused

        data = super().clean()
        boundary, community = data.get("boundary"), data.get("community")
        if boundary is not None and community is not None:
            try:
                data["boundary"], _fit = check_grid_shape(
                    shapely.from_wkb(bytes(boundary.wkb)),
                    community,
                    exclude=[self.instance.pk] if self.instance.pk else [],
                    field="boundary",
                )
            except Refused as exc:
                self.add_error("boundary", exc.message)
        return data


@admin.register(models.Grid)
class GridAdmin(ReadOnlyScopedMixin, LeafletGeoAdmin):
    form = GridAdminForm
    list_display = ("code", "name", "community", "status", "version")
    list_filter = ("status", "community")
    search_fields = ("code", "name")
    # Drafts, retirements and history belong to the grid editor's publish flow (services.grid_publishing):
    # not even the superuser retires a grid here without a version, a publish and an audit row.
    readonly_fields = ("status", "version", "draft_boundary", "retire_on_publish", "updated_by")


@admin.register(models.Household)
class HouseholdAdmin(ReadOnlyScopedMixin, LeafletGeoAdmin):
    list_display = ("address", "grid", "residents", "resident_type")
    list_filter = ("resident_type", "elderly_alone", "disabled", "low_income", "hardship")
    search_fields = ("address",)
    # Personal fields stay out of the admin (sealed, not editable); full values only through the logged reveal.
    exclude = ("grid", "community")  # grid and community follow from the location
    readonly_fields = ("phone_masked", "id_number_masked")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        rehome_households(household_ids=[obj.pk])


@admin.register(models.ServiceStation)
class ServiceStationAdmin(ReadOnlyScopedMixin, LeafletGeoAdmin):
    list_display = ("name", "kind", "radius_m", "community", "active")
    list_filter = ("kind", "active")


@admin.register(models.Member)
class MemberAdmin(ReadOnlyScopedMixin, admin.ModelAdmin):
    list_display = ("name", "is_party_member", "employer", "community")
    readonly_fields = ("phone_masked",)  # sealed; changed on the member registry page
    search_fields = ("name",)


@admin.register(models.Profile)
class ProfileAdmin(ScopedMixin, admin.ModelAdmin):
    list_display = ("user", "role", "street", "community")
    list_filter = ("role",)

    def save_model(self, request, obj, form, change):
        old = models.Profile.objects.filter(pk=obj.pk).values_list("role", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        account_admin.record_role_change(request, obj, old)


account_admin.install(admin.site)  # the User admin with audited password, disable/enable changes


@admin.register(models.GridVersion)
class GridVersionAdmin(ReadOnlyScopedMixin, LeafletGeoAdmin):
    list_display = ("grid", "number", "status", "created_at")


@admin.register(models.GridAssignment)
class GridAssignmentAdmin(ReadOnlyScopedMixin, admin.ModelAdmin):
    list_display = ("member", "grid", "role", "start_date", "end_date")
    list_filter = ("role",)
    raw_id_fields = ("member",)


@admin.register(models.HelpPair)
class HelpPairAdmin(ReadOnlyScopedMixin, admin.ModelAdmin):
    list_display = ("household", "member", "unit", "start_date", "end_date")
    raw_id_fields = ("household", "member")  # a select of every household is megabytes at a street's size


@admin.register(models.CentralHousehold)
class CentralHouseholdAdmin(ReadOnlyScopedMixin, admin.ModelAdmin):
    list_display = ("household", "active", "designated_on")
    raw_id_fields = ("household",)


@admin.register(models.CentralLink)
class CentralLinkAdmin(ReadOnlyScopedMixin, admin.ModelAdmin):
    list_display = ("central", "household", "linked_on")
    raw_id_fields = ("central", "household")


@admin.register(models.AuditEvent)
class AuditEventAdmin(ScopedMixin, admin.ModelAdmin):
    """Search the audit trail (superusers only: the audit administrator). Nothing can be changed here."""

    list_display = ("at", "username", "action", "object_type", "object_id", "result", "ip")
    list_filter = ("action", "result", "object_type")
    search_fields = ("username", "object_id", "reason", "ip")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_module_permission(self, request):
        return request.user.is_superuser


def _superusers_only(site: admin.AdminSite) -> None:
    """Groups and API tokens (registered by Django and DRF) are the superuser's: no scope of a street admin
    covers them, so nobody else sees or changes them, whatever model permissions an account was given."""
    for model in [m for m in site._registry if m not in SCOPES]:
        base = type(site._registry[model])

        class SuperuserOnly(base):
            def get_queryset(self, request):
                queryset = super().get_queryset(request)
                return queryset if request.user.is_superuser else queryset.none()

            def has_module_permission(self, request):
                return request.user.is_superuser

            def has_view_permission(self, request, obj=None):
                return request.user.is_superuser

            has_change_permission = has_delete_permission = has_view_permission

            def has_add_permission(self, request, *args):
                return request.user.is_superuser

        site.unregister(model)
        site.register(model, SuperuserOnly)


_superusers_only(admin.site)
