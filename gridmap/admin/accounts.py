"""Account changes made in the admin are audited (issue #9): password change, password reset by an
administrator, account disable/enable and role change — who, when, which user, result, address.

These are the only places accounts change: there is no self-service password page, and demo accounts are
written by a management command. Sessions end on a password change (Django's session hash) and on disable
(policy.role_of refuses inactive users)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from gridmap import policy
from gridmap.models import AuditAction, Profile
from gridmap.services import audit


def _password_event(request, target_id, ok: bool) -> None:
    own = str(target_id) == str(request.user.pk)
    audit.record(
        request.user,
        AuditAction.PASSWORD_CHANGE if own else AuditAction.PASSWORD_RESET,
        "user",
        target_id,
        request=request,
        fields="password",
        result="ok" if ok else "refused",
    )


class AuditedUserAdmin(UserAdmin):
    def get_queryset(self, request):
        # Accounts in scope only (policy.accounts_for), whatever model permissions a staff member was given.
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=policy.accounts_for(request.user).values("pk"))

    def save_model(self, request, obj, form, change):
        was_active = get_user_model().objects.filter(pk=obj.pk).values_list("is_active", flat=True).first()
        super().save_model(request, obj, form, change)
        if change and was_active is not None and was_active != obj.is_active:
            action = AuditAction.ACCOUNT_ENABLE if obj.is_active else AuditAction.ACCOUNT_DISABLE
            audit.record(request.user, action, "user", obj.pk, request=request, fields="is_active")

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and self.get_object(request, unquote(id)) is not None:
            _password_event(request, unquote(id), ok=response.status_code == 302)
        return response


def audited_own_password_change(site_view):
    """Wrap AdminSite.password_change (a staff member changing his own password)."""

    def view(request, extra_context=None):
        response = site_view(request, extra_context)
        if request.method == "POST" and request.user.is_authenticated:
            _password_event(request, request.user.pk, ok=response.status_code == 302)
        return response

    return view


def record_role_change(request, profile: Profile, old_role: str | None) -> None:
    if old_role is not None and old_role != profile.role:
        audit.record(
            request.user,
            AuditAction.ROLE_CHANGE,
            "user",
            profile.user_id,
            request=request,
            fields="role",
            reason=f"{old_role} → {profile.role}",
        )


def install(site: admin.AdminSite) -> None:
    user_model = get_user_model()
    if site.is_registered(user_model):
        site.unregister(user_model)
    site.register(user_model, AuditedUserAdmin)
    site.password_change = audited_own_password_change(site.password_change)
