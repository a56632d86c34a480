"""Navigation: the page each role starts at and the menu of the pages a user may open, by the same rules as the
pages' own checks."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gridmap.models import Role
from gridmap.policy.concerns import concerns_page_level
from gridmap.policy.exchange import exportable_layers
from gridmap.policy.people import assignable_roles, member_communities_for
from gridmap.policy.planning import sees_dashboard
from gridmap.policy.scopes import FIELD_ROLES, MANAGER_ROLES, grid_edit_communities_for, role_of


def sees_work_list(user) -> bool:
    """The work list (views/worklist.py): the managers of grids, who fix what it lists."""
    return role_of(user) in MANAGER_ROLES


def start_page(user) -> str:
    """The URL name each role starts at after signing in (and at /): its job, not one map for all."""
    role = role_of(user)
    if role in FIELD_ROLES:
        return "my-grid"
    if role == Role.PLANNER:
        return "planner-dashboard"
    if sees_work_list(user):
        return "work-list"
    return "street-map"


def navigation(user) -> list[tuple[str, str]]:
    """The menu: (URL name, label) of every page this user may open, by the same rules as the pages' own
    checks. base.html renders it (gridmap/views/navigation.py); no role list lives in a template."""
    role = role_of(user)
    if role is None:
        return []
    field = role in FIELD_ROLES
    items = [
        ("work-list", _("待办"), sees_work_list(user)),
        ("street-map", _("一张图"), not field),
        ("grid-editor", _("网格编辑"), grid_edit_communities_for(user).exists()),
        ("staffing-map", pgettext_lazy("menu", "人员与中心户"), bool(assignable_roles(user))),
        ("members-page", _("人员库"), member_communities_for(user).exists()),
        ("concerns-page", pgettext_lazy("menu", "民情诉求"), concerns_page_level(user) is not None),
        ("planner-dashboard", pgettext_lazy("menu", "规划看板"), sees_dashboard(user)),
        ("my-grid", _("我的网格"), field),
        ("data-exchange", pgettext_lazy("menu", "数据导入导出"), bool(exportable_layers(user))),
    ]
    return [(name, label) for name, label, shown in items if shown]
