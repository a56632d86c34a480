from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from gridmap.api import grids, layers
from gridmap.views import editor, maps

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="street-map", permanent=False), name="home"),
    path("map/", maps.street_map, name="street-map"),
    path("editor/", editor.grid_editor, name="grid-editor"),
    path("api/layers/grids.geojson", layers.grids, name="layer-grids"),
    path("api/layers/communities.geojson", layers.communities, name="layer-communities"),
    path("api/layers/households.geojson", layers.households, name="layer-households"),
    path("api/layers/links.geojson", layers.links, name="layer-links"),
    path("api/layers/stations.geojson", layers.stations, name="layer-stations"),
    # Grid editor (issue #4): drafts, publishing, topology, history.
    path("api/grids/", grids.create, name="grid-create"),
    path("api/grids/check", grids.check, name="grid-check"),
    path("api/grids/merge", grids.merge, name="grid-merge"),
    path("api/grids/<int:pk>/boundary", grids.boundary, name="grid-boundary"),
    path("api/grids/<int:pk>/split", grids.split, name="grid-split"),
    path("api/grids/<int:pk>/retire", grids.retire, name="grid-retire"),
    path("api/grids/<int:pk>/discard", grids.discard, name="grid-discard"),
    path("api/grids/<int:pk>/history", grids.history, name="grid-history"),
    path("api/grids/<int:pk>/versions/<int:number>/diff", grids.diff, name="grid-diff"),
    path("api/grids/<int:pk>/versions/<int:number>/restore", grids.restore, name="grid-restore"),
    path("api/communities/<int:pk>/grids.geojson", grids.editor_grids, name="editor-grids"),
    path("api/communities/<int:pk>/publish", grids.publish, name="community-publish"),
    path("api/communities/<int:pk>/topology", grids.community_topology, name="community-topology"),
    path("api/communities/<int:pk>/topology/fix-sliver", grids.fix_sliver, name="community-fix-sliver"),
    path("api/streets/<int:pk>/topology", grids.street_topology, name="street-topology"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="gridmap/login.html",
                                                         redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["gridmap"]), name="javascript-catalog"),
    path("healthz", maps.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
