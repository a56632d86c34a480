/* The concern map of the KPI dashboard (issue #17): grids (or communities) coloured by their concerns of the chosen
 * category and period, classed on the server (Fisher–Jenks, api/concern_map.py), with a legend; above it a heat
 * layer of 250 m cells counted in PostgreSQL, with its own legend. Aggregates only: no concern's point comes here.
 * Shown while the "统计" panel is open (concerns.js calls toggle); strings through Django's JS catalogue. */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var RAMP = ["#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603"];  // few → many, as the planner's
  var SUPPRESSED = "#b0bec5", NO_DATA = "#eceff1";
  var HEAT_GRADIENT = "linear-gradient(to right, blue, cyan, lime, yellow, red)";  // leaflet-heat's own colours
  var M = {map: null, on: false, areas: null, heat: null, legend: null, heatLegend: null, shapes: {}, asked: 0};

  /* leaflet-heat draws into the overlay pane, under the grids' SVG: moved into its own pane above them. */
  var HeatAbove = L.HeatLayer ? L.HeatLayer.extend({
    onAdd: function (map) { L.HeatLayer.prototype.onAdd.call(this, map); map.getPane("concern-heat").appendChild(this._canvas); },
    onRemove: function (map) {
      map.getPanes().overlayPane.appendChild(this._canvas);
      L.HeatLayer.prototype.onRemove.call(this, map);
    }
  }) : null;

  function $(id) { return document.getElementById(id); }

  function query() {
    var q = new URLSearchParams();
    [["category", "cm-category"], ["state", "cm-state"], ["from", "cm-from"], ["to", "cm-to"]].forEach(function (p) {
      if ($(p[1]).value) { q.set(p[0], $(p[1]).value); }
    });
    return q;
  }

  function colours(legend) {
    var classes = legend.filter(function (e) { return e["class"] !== "suppressed"; }).length;
    var out = {suppressed: SUPPRESSED};
    for (var i = 0; i < classes; i += 1) { out[i] = RAMP[Math.round(i * (RAMP.length - 1) / Math.max(classes - 1, 1))]; }
    return out;
  }

  function control(position, cls, id, html) {
    var c = L.control({position: position});
    c.onAdd = function () {
      var div = L.DomUtil.create("div", cls);
      div.id = id;
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    return c.addTo(M.map);
  }

  function clear() {
    ["areas", "heat", "legend", "heatLegend"].forEach(function (k) {
      if (!M[k]) { return; }
      if (M[k] instanceof L.Control) { M.map.removeControl(M[k]); } else { M.map.removeLayer(M[k]); }
      M[k] = null;
    });
  }

  function shapes(level) {
    if (M.shapes[level]) { return Promise.resolve(M.shapes[level]); }
    return GM.api(GM.url(level === "community" ? "layer-communities" : "layer-grids")).then(function (fc) {
      M.shapes[level] = fc;
      return fc;
    });
  }

  function drawAreas(fc, table) {
    var byId = {}, palette = colours(table.legend);
    table.areas.forEach(function (a) { byId[a.id] = a; });
    M.areas = L.geoJSON(fc, {
      filter: function (f) { return byId[f.id] !== undefined; },
      style: function (f) {
        var a = byId[f.id], c = a["class"] === null ? NO_DATA : palette[a["class"]];
        return {color: "#37474f", weight: 1, fillColor: c, fillOpacity: 0.45};
      },
      onEachFeature: function (f, layer) {
        var a = byId[f.id];
        var per = a.per_1000 === null ? "—" : a.per_1000;
        layer.bindTooltip("<b>" + esc(a.name) + "</b><br>" + esc(interpolate(gettext("诉求 %(n)s 件，每千户 %(per)s 件"),
          {n: a.concerns, per: per}, true)), {sticky: true});
        layer.on("add", function () { if (layer._path) { layer._path.setAttribute("data-area", f.id); } });
      }
    }).addTo(M.map);
    var title = table.measure === "per_1000" ? gettext("每千户诉求数") : gettext("诉求数");
    var rows = table.legend.map(function (e) {
      return "<div class=\"legend-class\"><span class=\"key swatch\" style=\"--c:" + esc(palette[e["class"]]) + "\"></span>" +
        esc(e.label) + "</div>";
    });
    if (!rows.length) { rows.push("<div class=\"muted\">" + esc(gettext("没有诉求")) + "</div>"); }
    M.legend = control("bottomright", "legend concern-legend", "concern-legend", "<strong>" + esc(title) + "</strong>" + rows.join(""));
  }

  function drawHeat(data) {
    if (!HeatAbove || !data.points.length) { return; }
    // maxZoom = the zoom drawn at: leaflet-heat dims every point by 2^(maxZoom - zoom), which hid the counts.
    M.heat = new HeatAbove(data.points, {radius: 25, blur: 18, max: data.max || 1, minOpacity: 0.3,
      maxZoom: M.map.getZoom()}).addTo(M.map);
    M.heatLegend = control("bottomleft", "legend heat-legend", "concern-heat-legend",
      "<strong>" + esc(gettext("热力图：诉求")) + "</strong><div class=\"heat-ramp\" style=\"background:" + HEAT_GRADIENT +
      "\"></div><div class=\"heat-scale\"><span>" + esc(gettext("少")) + "</span><span>" +
      esc(interpolate(gettext("多（每格 %(max)s 件）"), {max: data.max || 1}, true)) + "</span></div>");
  }

  function refresh() {
    if (!M.on) { return Promise.resolve(); }
    var ask = ++M.asked, q = query(), level = $("cm-level") ? $("cm-level").value : "grid";
    var areaQ = new URLSearchParams(q);
    areaQ.set("level", level);
    areaQ.set("measure", $("cm-measure").value);
    $("cm-status").textContent = gettext("正在加载…");
    return Promise.all([shapes(level), GM.api(GM.url("concern-areas") + "?" + areaQ.toString()),
      GM.api(GM.url("concern-heat") + "?" + q.toString())]).then(function (res) {
      if (ask !== M.asked || !M.on) { return; }
      clear();
      drawAreas(res[0], res[1]);
      drawHeat(res[2]);
      var text = interpolate(gettext("%(from)s 至 %(to)s 共 %(n)s 件"), {from: res[2].from, to: res[2].to, n: res[2].total}, true);
      if (res[2].suppressed_cells) {
        text += "；" + interpolate(gettext("%(n)s 个少于 %(min)s 件的单元格未显示"),
          {n: res[2].suppressed_cells, min: res[2].suppressed_below}, true);
      }
      $("cm-status").textContent = text;
      if (!$("cm-from").value) { $("cm-from").value = res[2].from; }  // the period the server took
      if (!$("cm-to").value) { $("cm-to").value = res[2].to; }
    }, function (err) {
      if (ask === M.asked) { $("cm-status").textContent = GM.refusalText(err); }
    });
  }

  /* The map mode on (the KPI panel opened) or off; the concern markers make way for the aggregates. */
  function toggle(map, on, markers) {
    M.map = map;
    M.on = on;
    if (!map.getPane("concern-heat")) {
      var pane = map.createPane("concern-heat");
      pane.style.zIndex = 450;
      pane.style.pointerEvents = "none";
    }
    if (markers) { if (on) { map.removeLayer(markers); } else { markers.addTo(map); } }
    if ($("map-status")) { $("map-status").hidden = on; }  // it counts the listed concerns, not the map's
    if (!on) { clear(); M.asked += 1; return Promise.resolve(); }
    return refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    ["cm-category", "cm-state", "cm-measure", "cm-level", "cm-from", "cm-to"].forEach(function (id) {
      if ($(id)) { $(id).addEventListener("change", refresh); }
    });
  });

  window.GridConcernMap = {toggle: toggle, refresh: refresh};
})();
