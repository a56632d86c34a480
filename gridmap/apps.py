from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class GridMapConfig(AppConfig):
    name = "gridmap"
    label = "gridmap"
    verbose_name = _("网格化管理")

    def ready(self) -> None:
        point_folium_at_local_assets()
        checks.register(data_key_check)


def data_key_check(app_configs=None, **kwargs):
    """gridmap.E101: the personal-data key settings must be usable (required outside DEMO_MODE/DEBUG)."""
    from gridmap.storage.sealed_fields import configuration_problem

    problem = configuration_problem()
    return (
        [
            checks.Error(
                problem,
                hint="GRIDMAP_DATA_KEY / GRIDMAP_DATA_KEY_ID / GRIDMAP_DATA_OLD_KEYS, see .env.example",
                id="gridmap.E101",
            )
        ]
        if problem
        else []
    )


def point_folium_at_local_assets() -> None:
    """folium emits each class's ``default_js``/``default_css`` from public CDNs; the intranet has none. Assign
    new lists (never ``add_js_link``, which mutates the class-level list for the whole process) that name
    our vendored copies under STATIC_URL. jQuery, Bootstrap and awesome-markers are only needed for
    ``folium.Icon``, which we do not use. See docs/architecture.md, "Planner dashboard"."""
    import folium
    from django.conf import settings
    from folium.plugins import HeatMap

    vendor = settings.STATIC_URL + "vendor/"
    folium.Map.default_js = [("leaflet", vendor + "leaflet/leaflet.js")]
    folium.Map.default_css = [("leaflet_css", vendor + "leaflet/leaflet.css")]
    HeatMap.default_js = [("leaflet-heat.js", vendor + "leaflet-heat/leaflet-heat.js")]
