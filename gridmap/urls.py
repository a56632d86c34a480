from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from gridmap.api import layers
from gridmap.views import maps

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="street-map", permanent=False), name="home"),
    path("map/", maps.street_map, name="street-map"),
    path("api/layers/grids.geojson", layers.grids, name="layer-grids"),
    path("api/layers/communities.geojson", layers.communities, name="layer-communities"),
    path("api/layers/households.geojson", layers.households, name="layer-households"),
    path("api/layers/links.geojson", layers.links, name="layer-links"),
    path("api/layers/stations.geojson", layers.stations, name="layer-stations"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="gridmap/login.html",
                                                         redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["gridmap"]), name="javascript-catalog"),
    path("healthz", maps.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
