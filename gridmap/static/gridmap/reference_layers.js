/* Reference layers (water, roads, compounds, buildings) beneath the data of every Leaflet map of the site,
 * so a map shows where things are without any outside tile server, and the grid editor can snap to them.
 *
 * Loaded once from the base template, after Leaflet: on django-leaflet's "map:init" it gives the map a
 * "reference" pane below the overlays, fills it for the box on view (GET data-url?bbox=, buildings only
 * when zoomed in: queries/reference.py) and names it in the map's layer control, whichever page builds that
 * control (L.Control.Layers' onAdd picks the map's reference layer up). Names of compounds show from zoom 16.
 */
(function () {
  "use strict";
  if (!window.L || !window.GM) { return; }
  var script = document.currentScript;
  var source = script && script.dataset.url;
  if (!source) { return; }
  var gettext = GM.gettext;
  var STYLE = {
    water: {color: "#5b9bd5", weight: 1, fillColor: "#c9def2", fillOpacity: 0.9},
    road: {color: "#c8c8c8", weight: 4, opacity: 1, lineCap: "butt"},
    compound: {color: "#a1887f", weight: 1, dashArray: "3 3", fillColor: "#f3eeea", fillOpacity: 0.7},
    building: {color: "#b8a79f", weight: 0.5, fillColor: "#ddd3cd", fillOpacity: 0.9}
  };
  var LABEL_ZOOM = 16;

  function box(map) {
    var b = map.getBounds();
    var clamp = function (v, lo, hi) { return Math.min(hi, Math.max(lo, v)).toFixed(6); };
    return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
            clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)].join(",");
  }

  function referenceLayer(map) {
    var pane = map.createPane("reference");
    pane.style.zIndex = 250;  // above the tiles (200), below the data (overlayPane 400)
    pane.style.pointerEvents = "none";
    var labels = L.layerGroup();
    var layer = L.geoJSON(null, {
      pane: "reference",
      interactive: false,
      style: function (f) { return STYLE[f.properties.kind] || STYLE.road; },
      onEachFeature: function (f, item) {
        if (f.properties.kind === "compound" && f.properties.name) {
          labels.addLayer(L.marker(item.getBounds().getCenter(), {
            pane: "reference", interactive: false, keyboard: false,
            icon: L.divIcon({className: "gm-ref-label", html: GM.esc(f.properties.name), iconSize: null})
          }));
        }
      }
    });
    var latest = 0;
    function refresh() {
      if (!map.hasLayer(layer)) { return; }
      var ask = ++latest;
      GM.api(source + "?bbox=" + box(map), {quiet: true}).then(function (fc) {
        if (ask !== latest) { return; }  // an older answer after a newer request
        layer.clearLayers();
        labels.clearLayers();
        layer.addData(fc);
        showLabels();
      }, function () { /* orientation only: the data layers do not depend on it */ });
    }
    function showLabels() {
      var show = map.hasLayer(layer) && map.getZoom() >= LABEL_ZOOM;
      if (show && !map.hasLayer(labels)) { labels.addTo(map); }
      if (!show && map.hasLayer(labels)) { map.removeLayer(labels); }
    }
    function markZoom() {  // the zoom on view as data-zoom on the map's element, for styles and browser tests
      if (map._loaded) { map.getContainer().setAttribute("data-zoom", String(map.getZoom())); }
    }
    layer.on("remove", showLabels);
    map.on("moveend", refresh);
    map.on("zoomend", showLabels);
    map.on("load zoomend", markZoom);
    markZoom();
    layer.on("add", refresh);
    layer.addTo(map);
    layer.bringToBack();
    return layer;
  }

  window.addEventListener("map:init", function (e) {
    var map = e.detail && e.detail.map;
    if (map && !map._gmReference) { map._gmReference = referenceLayer(map); }
  });

  var onAdd = L.Control.Layers.prototype.onAdd;
  L.Control.Layers.prototype.onAdd = function (map) {
    var container = onAdd.call(this, map);  // the control's own layout first: addOverlay updates it
    if (map._gmReference && !this._gmReference) {
      this._gmReference = true;
      this.addOverlay(map._gmReference, gettext("参考图层（道路、水系、小区、建筑）"));
    }
    return container;
  };

  GM.referenceLayerOf = function (map) { return map._gmReference || null; };
})();
