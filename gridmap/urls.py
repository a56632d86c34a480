"""The URL patterns: pages, the read layers, and the one write API (every write a page makes lives under
/api/v1/, beside the REST viewsets of gridmap/api/routes.py). URL names are what templates and scripts use."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from gridmap.api import central, exchange, grids, households, layers
from gridmap.api import concern_deliveries as concern_deliveries_api
from gridmap.api import concern_map as concern_map_api
from gridmap.api import concern_reports as concern_reports_api
from gridmap.api import concerns as concerns_api
from gridmap.api import household_imports as household_import_api
from gridmap.api import import_jobs as import_job_api
from gridmap.api import people as people_api
from gridmap.api import planning as planning_api
from gridmap.api import reference as reference_api
from gridmap.api import scenarios as scenarios_api
from gridmap.views import accounts, basemap, editor, maps, people, worklist
from gridmap.views import concerns as concern_views
from gridmap.views import exchange as exchange_views
from gridmap.views import household_imports as household_import_views
from gridmap.views import intake as intake_views
from gridmap.views import members as member_views
from gridmap.views import planner_exports as planner_export_views
from gridmap.views import planning as planning_views

urlpatterns = [
    path("", worklist.home, name="home"),
    path("work/", worklist.work_list, name="work-list"),
    # Residents' concerns (issue #17): the page, the list/report, one concern, a transition, the categories.
    path("concerns/", concern_views.concerns_page, name="concerns-page"),
    path("concerns/deadlines/", concern_views.deadlines_page, name="concern-deadlines"),
    path("concerns/webhook/", concern_views.webhook_page, name="concern-webhook"),
    # Public intake by QR code (item 6): the street admin's switch, QR code and poster; the resident's page.
    path("concerns/intake/", intake_views.settings_page, name="concern-intake"),
    path("concerns/intake/<int:community_id>/qr.svg", intake_views.qr_code, name="concern-intake-qr"),
    path("concerns/intake/<int:community_id>/poster/", intake_views.poster, name="concern-intake-poster"),
    path("r/<str:token>/", intake_views.public_page, name="intake-public"),
    path("api/v1/concern-deliveries/<int:pk>/retry", concern_deliveries_api.retry, name="concern-delivery-retry"),
    path("api/v1/concerns", concerns_api.concerns, name="concerns"),
    path("api/v1/concerns/nearby", concerns_api.nearby, name="concerns-nearby"),
    path("api/v1/concerns/<int:pk>", concerns_api.concern, name="concern"),
    path("api/v1/concerns/<int:pk>/transitions", concerns_api.transition, name="concern-transition"),
    path("api/v1/concerns/<int:pk>/duplicates", concerns_api.duplicates, name="concern-duplicates"),
    path("api/v1/concerns/<int:pk>/contact/reveal", concerns_api.reveal_contact, name="concern-contact-reveal"),
    path("api/v1/concern-categories", concerns_api.categories, name="concern-categories"),
    path("api/v1/concern-kpis", concerns_api.kpis, name="concern-kpis"),
    path("api/v1/concern-counts", concerns_api.counts, name="concern-counts"),
    path("api/v1/concern-heat", concern_map_api.heat, name="concern-heat"),  # the KPI dashboard's map
    path("api/v1/concern-areas", concern_map_api.areas, name="concern-areas"),
    path("api/v1/concern-trend", concern_reports_api.trend, name="concern-trend"),  # the KPI panel's weekly chart
    path("api/v1/concern-ledger.xlsx", concern_reports_api.ledger, name="concern-ledger"),  # 台账, staff only
    path("api/v1/concerns/<int:pk>/photos", concerns_api.photos, name="concern-photos"),
    path("api/v1/concern-photos/<int:pk>", concerns_api.photo, name="concern-photo"),
    path("map/", maps.street_map, name="street-map"),
    path("editor/", editor.grid_editor, name="grid-editor"),
    path("api/layers/grids.geojson", layers.grids, name="layer-grids"),
    path("api/layers/communities.geojson", layers.communities, name="layer-communities"),
    path("api/layers/households.geojson", layers.households, name="layer-households"),
    path("api/layers/links.geojson", layers.links, name="layer-links"),
    path("api/layers/stations.geojson", layers.stations, name="layer-stations"),
    path("api/layers/reference.geojson", reference_api.layer, name="layer-reference"),
    path("basemap/<int:z>/<int:x>/<int:y>.<slug:ext>", basemap.tile, name="basemap-tile"),
    path("api/v1/reference-layers", reference_api.import_layer, name="reference-import"),
    # Grid editor (issue #4): drafts, publishing, topology, history.
    path("api/v1/grids/drafts", grids.create, name="grid-create"),
    path("api/v1/grids/check", grids.check, name="grid-check"),
    path("api/v1/grids/merge", grids.merge, name="grid-merge"),
    path("api/v1/grids/<int:pk>/boundary", grids.boundary, name="grid-boundary"),
    path("api/v1/grids/<int:pk>/split", grids.split, name="grid-split"),
    path("api/v1/grids/<int:pk>/retire", grids.retire, name="grid-retire"),
    path("api/v1/grids/<int:pk>/discard", grids.discard, name="grid-discard"),
    path("api/grids/<int:pk>/history", grids.history, name="grid-history"),
    path("api/grids/<int:pk>/versions/<int:number>/diff", grids.diff, name="grid-diff"),
    path("api/v1/grids/<int:pk>/versions/<int:number>/restore", grids.restore, name="grid-restore"),
    path("api/communities/<int:pk>/grids.geojson", grids.editor_grids, name="editor-grids"),
    path("api/v1/communities/<int:pk>/publish", grids.publish, name="community-publish"),
    path("api/v1/communities/<int:pk>/grid-import", grids.grid_import, name="community-grid-import"),
    path("api/communities/<int:pk>/topology", grids.community_topology, name="community-topology"),
    path("api/v1/communities/<int:pk>/topology/fix-sliver", grids.fix_sliver, name="community-fix-sliver"),
    path("api/streets/<int:pk>/topology", grids.street_topology, name="street-topology"),
    # People, central households and the grid leader's view (issue #5); rows in tests/access_matrix.py.
    path("staffing/", people.staffing_map, name="staffing-map"),
    path("my-grid/", people.my_grid, name="my-grid"),
    path("my-grid/households/<int:household>/", people.my_grid, name="my-grid-household"),
    path("api/layers/staffing.geojson", people_api.staffing_geojson, name="layer-staffing"),
    path("api/v1/grids/<int:pk>/staff", people_api.grid_staff, name="grid-staff"),
    path("api/grids/<int:pk>/households.json", households.grid_households, name="grid-households"),
    path("api/v1/assignments/<int:pk>/end", people_api.end_assignment, name="assignment-end"),
    path("api/v1/member-registry", people_api.members, name="members"),
    path("api/v1/member-registry/import", people_api.import_members, name="members-import"),
    path("members/", member_views.members_page, name="members-page"),
    path("members/template.xlsx", member_views.members_template, name="members-template"),
    path("api/v1/households/<int:pk>/card", households.household, name="household"),
    path("api/v1/households/<int:pk>/move", households.move, name="household-move"),
    path("api/v1/households/<int:pk>/reveal", households.reveal, name="household-reveal"),
    path("api/v1/households/<int:pk>/visits", households.visits, name="household-visits"),
    path("api/v1/households/<int:pk>/help-pairs", households.help_pairs, name="household-help-pairs"),
    path("api/v1/help-pairs/<int:pk>/end", households.end_help_pair, name="help-pair-end"),
    path("api/v1/households/<int:pk>/central", central.central_household, name="central-household"),
    path("api/v1/households/<int:pk>/central/suggestions", central.suggestions, name="central-suggestions"),
    path("api/v1/households/<int:pk>/central/links", central.links, name="central-links"),
    # Planner dashboard (issue #6): aggregates only; rows in tests/access_matrix.py.
    path("planner/", planning_views.planner_dashboard, name="planner-dashboard"),
    path("planner/report.html", planning_views.planner_report, name="planner-report"),
    path("api/planner/metrics.json", planning_api.metrics, name="planner-metrics"),
    path("api/planner/heat.json", planning_api.heat, name="planner-heat"),
    # Geodata in and out (issue #7): exports of every layer, imports of streets, communities and stations.
    path("data/", exchange_views.data_exchange, name="data-exchange"),
    path("api/exports/<slug:layer>.<slug:fmt>", exchange.export, name="export"),
    path("api/v1/imports/<slug:layer>", exchange.import_layer, name="layer-import"),
    # Import jobs of every kind: status (poll); commit of a layer's or grid file's preview. Rows in tests/access_matrix.py.
    path("api/v1/import-jobs/<int:pk>", import_job_api.job_status, name="import-job-status"),
    path("api/v1/import-jobs/<int:pk>/commit", import_job_api.commit, name="import-job-commit"),
    # Household import (issue #7): upload, dry-run preview, background progress, commit; rows in tests/access_matrix.py.
    path("households/import/", household_import_views.import_page, name="household-import-page"),
    path("households/import-template.xlsx", household_import_views.import_template, name="household-import-template"),
    path("api/v1/household-imports/", household_import_api.upload, name="household-import-upload"),
    path("api/v1/household-imports/<int:pk>", household_import_api.job_status, name="household-import-status"),
    path("api/v1/household-imports/<int:pk>/commit", household_import_api.commit, name="household-import-commit"),
    path("api/planner/areas.json", scenarios_api.areas, name="planner-areas"),
    path("api/planner/selection.json", scenarios_api.selection, name="planner-selection"),
    path("api/planner/what-if.json", scenarios_api.what_if, name="planner-what-if"),
    path("api/v1/planner/proposals", scenarios_api.proposals, name="planner-proposals"),
    path("api/planner/proposals/<int:pk>.json", scenarios_api.proposal, name="planner-proposal"),
    path("planner/ledger.xlsx", planner_export_views.ledger, name="planner-ledger"),
    path("planner/grids.geojson", planner_export_views.geo_file, {"fmt": "geojson"}, name="planner-geojson"),
    path("planner/grids.gpkg", planner_export_views.geo_file, {"fmt": "gpkg"}, name="planner-gpkg"),
    path("planner/print/", planner_export_views.print_page, name="planner-print"),
    path("accounts/login/", accounts.login, name="login"),
    path("accounts/logout/", accounts.logout, name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["gridmap"]), name="javascript-catalog"),
    path("healthz", maps.healthz, name="healthz"),
    path("", include("gridmap.api.routes")),  # REST API, OpenAPI + Swagger, OGC API Features, tiles
    path("admin/", admin.site.urls),
]

# A lost database connection answers 503 with Retry-After instead of 500 (gridmap/views/errors.py).
handler500 = "gridmap.views.errors.server_error"
handler404 = "gridmap.views.errors.not_found"  # JSON under /api/ and /ogc/: the one error shape
handler403 = "gridmap.views.errors.forbidden"
handler400 = "gridmap.views.errors.bad_request"  # too many files/fields, body over the cap: with a reason
