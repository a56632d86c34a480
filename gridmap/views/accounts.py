"""Sign-in with lockout. A locked account answers exactly like a wrong password."""
from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from gridmap.services.lockout import is_locked, record_attempt


def client_address(request) -> str | None:
    # Behind a proxy set the proxy to overwrite REMOTE_ADDR; never trust a client-sent header here.
    return request.META.get("REMOTE_ADDR") or None


class LockoutAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        if username and is_locked(username, address):
            record_attempt(username, address, succeeded=False)
            raise self.get_invalid_login_error()
        try:
            cleaned = super().clean()
        except ValidationError:
            if username:
                record_attempt(username, address, succeeded=False)
            raise
        record_attempt(username, address, succeeded=True)
        return cleaned


class LoginView(auth_views.LoginView):
    template_name = "gridmap/login.html"
    authentication_form = LockoutAuthenticationForm
    redirect_authenticated_user = True


login = LoginView.as_view()
