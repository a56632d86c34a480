"""Every admin registration is scoped through policy: a street admin's changelist holds exactly his policy scope
of that model, rows of another street are not reachable, rows written by their own services are read-only for
him, and models no scope covers (groups, API tokens) are the superuser's alone."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from gridmap.admin import SCOPES


def _request(rf, user):
    request = rf.get("/admin/")
    request.user = user
    return request


@pytest.fixture
def street_admin(user_for, small_street):  # small_street: a second street, outside the demo street admin's scope
    return user_for("street_admin")


def test_every_registered_model_has_a_policy_scope_or_is_the_superusers_alone(rf, street_admin):
    request = _request(rf, street_admin)
    for model, model_admin in admin.site._registry.items():
        if model in SCOPES:
            continue
        assert not model_admin.has_module_permission(request), model
        assert not model_admin.get_queryset(request).exists(), model


@pytest.mark.parametrize("model", list(SCOPES), ids=lambda m: m.__name__)
def test_the_changelist_queryset_is_the_policy_scope(rf, street_admin, model):
    request = _request(rf, street_admin)
    shown = set(admin.site._registry[model].get_queryset(request).values_list("pk", flat=True))
    assert shown == set(SCOPES[model](street_admin).values_list("pk", flat=True))


def test_another_streets_grid_is_not_reachable_through_the_admin(client_for, small_street):
    client = client_for("street_admin")
    other = small_street["grids"]["110105001001001"]
    response = client.get(reverse("admin:gridmap_grid_change", args=[other.pk]))
    assert response.status_code == 302 and response.url == reverse("admin:index")
    listing = client.get(reverse("admin:gridmap_grid_changelist")).content.decode()
    assert other.code not in listing


@pytest.mark.parametrize("name", ["gridassignment", "helppair", "centralhousehold", "centrallink", "gridversion"])
def test_rows_written_by_their_own_services_are_read_only_for_a_street_admin(client_for, name):
    client = client_for("street_admin")
    assert client.get(reverse(f"admin:gridmap_{name}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:gridmap_{name}_add")).status_code == 403


def test_groups_and_tokens_are_hidden_from_a_street_admin(client_for):
    client = client_for("street_admin")
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    assert client.get(reverse("admin:authtoken_tokenproxy_changelist")).status_code == 403


def test_a_street_admin_is_offered_only_accounts_of_his_street(client_for, user_for, small_street):
    from django.contrib.auth import get_user_model

    from gridmap.models import Profile, Role

    other = get_user_model().objects.create(username="other-street-admin", is_staff=True)
    Profile.objects.create(user=other, role=Role.STREET_ADMIN, street=small_street["street"])
    form = client_for("street_admin").get(reverse("admin:gridmap_profile_add")).content.decode()
    assert f'<option value="{other.pk}">' not in form
    assert f'<option value="{user_for("community_staff").pk}">' in form  # his own street's account is offered
