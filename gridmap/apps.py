from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridMapConfig(AppConfig):
    name = "gridmap"
    label = "gridmap"
    verbose_name = _("网格化管理")
