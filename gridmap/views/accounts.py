"""Sign-in with lockout. A locked account answers exactly like a wrong password."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from gridmap import policy
from gridmap.models import AuditAction
from gridmap.services import audit
from gridmap.services.accounts.lockout import hold, is_locked, record_attempt
from gridmap.services.audit import client_address


class LockoutAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        error = cleaned = None
        with transaction.atomic():  # the check and its record under one lock per account and address
            if username:
                hold(username, address)
            if username and is_locked(username, address):
                record_attempt(username, address, succeeded=False)
                audit.record(
                    None, AuditAction.LOCKOUT, "user", request=self.request, username=username, result="refused"
                )
                error = self.get_invalid_login_error()
            else:
                try:
                    cleaned = super().clean()
                except ValidationError as exc:
                    if username:
                        record_attempt(username, address, succeeded=False)
                        audit.record(
                            None,
                            AuditAction.LOGIN_FAILED,
                            "user",
                            request=self.request,
                            username=username,
                            result="refused",
                        )
                    error = exc
                else:
                    record_attempt(username, address, succeeded=True)
                    audit.record(self.get_user(), AuditAction.LOGIN, "user", self.get_user().pk, request=self.request)
        if error is not None:  # raised after the commit: the failed attempt stays recorded
            raise error
        return cleaned


class LoginView(auth_views.LoginView):
    template_name = "gridmap/login.html"
    authentication_form = LockoutAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        """Without ?next=, each role's start page (policy.start_page), in one redirect."""
        return reverse(policy.start_page(self.request.user))


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            audit.record(request.user, AuditAction.LOGOUT, "user", request.user.pk, request=request)
        return super().post(request, *args, **kwargs)


login = LoginView.as_view()
logout = LogoutView.as_view()
