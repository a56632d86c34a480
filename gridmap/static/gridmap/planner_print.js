/* Printable planner map (issue #6): grids coloured by the chosen metric (classes from the server, the
 * dashboard's colours), station rings, a legend beside the map, a metric scale bar. Aggregates only. */
(function () {
  "use strict";
  var gettext = GM.gettext;
  var RAMP = ["#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603"];
  var BAND = ["#e69f00", "#009e73", "#d55e00"];
  var NO_DATA = "#cfd8dc";

  function getJSON(url) { return GM.api(url); }

  function palette(table) {
    if (table.metric === "size_band") { return BAND; }
    var n = table.legend.length;
    var ramp = table.legend.map(function (_, i) { return RAMP[Math.round(i * (RAMP.length - 1) / Math.max(n - 1, 1))]; });
    return table.worse === "low" ? ramp.slice().reverse() : ramp;
  }

  function legendRow(colour, label, ring) {
    var row = document.createElement("div");
    row.className = "legend-class";
    var key = document.createElement("span");
    key.className = ring ? "ring" : "swatch";
    if (!ring) { key.style.setProperty("--c", colour); }
    var text = document.createElement("span");
    text.textContent = label;
    row.appendChild(key);
    row.appendChild(text);
    return row;
  }

  function init(map) {
    var root = document.getElementById("print-root");
    map.attributionControl.setPrefix(false);
    // The metric scale bar comes from LEAFLET_CONFIG["SCALE"] (django-leaflet adds it to every map).
    document.getElementById("print-button").addEventListener("click", function () { window.print(); });
    var metric = root.dataset.metric;
    Promise.all([getJSON(GM.url("layer-grids")), getJSON(GM.url("layer-stations")),
                 getJSON(GM.url("planner-metrics") + "?metric=" + encodeURIComponent(metric))]).then(function (res) {
      var table = res[2];
      var colours = palette(table);
      var classOf = {};
      table.grids.forEach(function (g) { classOf[g.grid_id] = g["class"]; });
      var grids = L.geoJSON(res[0], {style: function (f) {
        var c = classOf[f.id];
        return {color: "#37474f", weight: 0.8, fillOpacity: 0.8,
                fillColor: c === null || c === undefined ? NO_DATA : colours[c]};
      }, interactive: false}).addTo(map);
      (res[1].features || []).forEach(function (f) {
        var c = f.geometry.coordinates;
        L.circle([c[1], c[0]], {radius: f.properties.radius_m, color: "#6a3d9a", weight: 1.2, fill: false,
                                dashArray: "4 3", interactive: false}).addTo(map);
      });
      if (grids.getBounds().isValid()) { map.fitBounds(grids.getBounds(), {padding: [8, 8]}); }
      var legend = document.getElementById("print-legend");
      var heading = document.createElement("p");
      heading.textContent = table.label;
      legend.appendChild(heading);
      table.legend.forEach(function (entry) { legend.appendChild(legendRow(colours[entry["class"]], entry.label)); });
      legend.appendChild(legendRow(NO_DATA, gettext("无数据")));
      legend.appendChild(legendRow(null, gettext("服务站及服务半径"), true));
      root.dataset.ready = "true";
    }).catch(function (err) {
      document.getElementById("print-legend").textContent = gettext("地图数据加载失败") + "：" + (err.message || GM.refusalText(err));
    });
  }

  window.GridPrint = {init: init};
})();
