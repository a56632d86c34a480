from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _

DEMO_HOUSEHOLDS = 15_000  # the demo street (geodata.synth.demo_street)


class GridMapConfig(AppConfig):
    name = "gridmap"
    label = "gridmap"
    verbose_name = _("网格化管理")

    def ready(self) -> None:
        point_folium_at_local_assets()
        checks.register(data_key_check)
        checks.register(secret_key_check, checks.Tags.security)
        checks.register(demo_data_check, checks.Tags.database)
        checks.register(concern_webhook_check)


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


# Secrets anyone can read: the development default this project once shipped, Django's template prefix and
# placeholders. A SECRET_KEY signs sessions and, in demo mode without GRIDMAP_DATA_KEY, derives the data key.
KNOWN_SECRETS = ("dev-only-insecure-key", "changeme", "change-me", "secret", "gridmap")


def weak_secret(value: str) -> str:
    """Why ``value`` is no secret ("" when it is one): known, Django's insecure template, or short/repetitive."""
    if value.strip().lower() in KNOWN_SECRETS or value.startswith("django-insecure-"):
        return "known"
    if len(value) < 50 or len(set(value)) < 5:
        return "weak"
    return ""


def secret_key_check(app_configs=None, **kwargs):
    """gridmap.E102 outside demo mode (a warning, W102, in it): SECRET_KEY must be a long random secret."""
    from django.conf import settings

    problem = weak_secret(settings.SECRET_KEY)
    if not problem:
        return []
    text = _("SECRET_KEY 是公开或过弱的值（%(why)s）") % {"why": problem}
    hint = "`make setup` writes a random one to the secrets file (docs/operations.md, 'Secrets')"
    if settings.DEMO_MODE or settings.DEBUG:
        return [checks.Warning(text, hint=hint, id="gridmap.W102")]
    return [checks.Error(text, hint=hint, id="gridmap.E102")]


def demo_data_check(app_configs=None, databases=None, **kwargs):
    """gridmap.W103 (with ``check --database default``, as `make run` runs it): a demo install, whose accounts
    share a published password, holds more households than the demo dataset."""
    from django.conf import settings

    if not settings.DEMO_MODE or not databases:
        return []
    from django.db import connection

    from gridmap.models import Household

    if Household._meta.db_table not in connection.introspection.table_names():
        return []  # `migrate` runs the checks before it creates the tables of a new database
    count = Household.objects.count()
    if count <= DEMO_HOUSEHOLDS:
        return []
    return [
        checks.Warning(
            _("演示模式的数据库中有 %(n)s 户，多于演示数据的 %(demo)s 户：演示账号的密码是公开的，请勿录入真实数据")
            % {"n": count, "demo": DEMO_HOUSEHOLDS},
            hint="run without DEMO_MODE, with your own accounts (docs/operations.md)",
            id="gridmap.W103",
        )
    ]


def concern_webhook_check(app_configs=None, **kwargs):
    """gridmap.E104: an outgoing concern webhook, when configured, needs an http(s) URL and a strong secret."""
    from gridmap.services.concerns.outbox import configuration_problem

    problem = configuration_problem()
    hint = "CONCERN_WEBHOOK_URL / CONCERN_WEBHOOK_SECRET, see docs/operations.md 'Concern webhook'"
    return [checks.Error(problem, hint=hint, id="gridmap.E104")] if problem else []


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
