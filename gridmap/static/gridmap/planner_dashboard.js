/* Planner dashboard (issue #6): grids coloured by a metric classed on the server, its legend, a worst-first
 * ranking, a grid's figures and failed rules, station rings and a heat layer of server-side cells.
 * Aggregates only: no endpoint used here returns a household. Strings through Django's JS catalogue. */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate, fmt = GM.fmt;
  // Sequential, light = good, dark = bad; six steps so a "<5" class fits in front of five classes.
  var RAMP = ["#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603"];
  var BAND = ["#e69f00", "#009e73", "#d55e00"];
  var NO_DATA = "#cfd8dc";
  var FILL = 0.75, FILL_UNDER_HEAT = 0.35;  // the choropleth fades while a heat layer is shown above it
  // leaflet-heat's own colours, low to high, for its legend.
  var HEAT_GRADIENT = "linear-gradient(to right, blue, cyan, lime, yellow, red)";

  /* The heat layer in its own pane above the choropleth (leaflet-heat always draws into the overlay pane,
   * under the grids' SVG), below markers and tooltips. */
  var HeatAbove = L.HeatLayer ? L.HeatLayer.extend({
    onAdd: function (map) {
      L.HeatLayer.prototype.onAdd.call(this, map);
      map.getPane("heat").appendChild(this._canvas);
    },
    onRemove: function (map) {
      map.getPanes().overlayPane.appendChild(this._canvas);  // where leaflet-heat removes it from
      L.HeatLayer.prototype.onRemove.call(this, map);
    }
  }) : null;

  function getJSON(url) { return GM.api(url); }

  function colours(table) {
    if (table.metric === "size_band") { return BAND; }
    var n = table.legend.length;
    var ramp = table.legend.map(function (_, i) { return RAMP[Math.round(i * (RAMP.length - 1) / Math.max(n - 1, 1))]; });
    // Class 0 holds the smallest values: for "low is worse" metrics it is the worst, so reverse.
    return table.worse === "low" ? ramp.slice().reverse() : ramp;
  }

  function Dashboard(map, root) {
    this.map = map;
    this.root = root;
    this.status = document.getElementById("map-status");
    this.byGrid = {};
    this.table = null;
    this.heat = null;
    this.selected = null;
  }

  Dashboard.prototype.load = function () {
    var self = this;
    var pane = this.map.createPane("heat");
    pane.style.zIndex = 450;
    pane.style.pointerEvents = "none";
    return Promise.all([getJSON(GM.url("layer-grids")), getJSON(GM.url("layer-stations"))])
      .then(function (res) {
        self.grids = L.geoJSON(res[0], {
          style: {color: "#37474f", weight: 1, fillColor: NO_DATA, fillOpacity: FILL},
          onEachFeature: function (f, layer) {
            self.byGrid[f.id] = layer;
            layer.on("add", function () { if (layer._path) { layer._path.setAttribute("data-grid", f.id); } });
            layer.on("click", function () { self.select(f.id); });
          }
        }).addTo(self.map);
        var stations = L.layerGroup().addTo(self.map);
        (res[1].features || []).forEach(function (f) {
          var c = f.geometry.coordinates;
          L.circle([c[1], c[0]], {radius: f.properties.radius_m, color: "#6a3d9a", weight: 1.5, fill: false,
                                  dashArray: "4 3", interactive: false}).addTo(stations);
          L.circleMarker([c[1], c[0]], {radius: 4, color: "#6a3d9a", fillOpacity: 1}).bindTooltip(
            esc(f.properties.name) + " · " + esc(f.properties.radius_m) + " " + gettext("米")).addTo(stations);
        });
        L.control.layers(null, (function () {
          var o = {};
          o[gettext("网格")] = self.grids;
          o[gettext("服务站及服务半径")] = stations;
          return o;
        }()), {collapsed: window.innerWidth < 800}).addTo(self.map);
        var bounds = self.grids.getBounds();
        if (bounds.isValid()) { self.map.fitBounds(bounds, {padding: [10, 10]}); }
      });
  };

  Dashboard.prototype.showMetric = function () {
    var self = this;
    var metric = document.getElementById("metric").value;
    var scheme = document.getElementById("scheme").value;
    var url = GM.url("planner-metrics") + "?metric=" + encodeURIComponent(metric) +
      "&scheme=" + encodeURIComponent(scheme);
    this.root.dataset.loaded = "false";
    return getJSON(url).then(function (table) {
      self.table = table;
      var palette = colours(table);
      self.rows = {};
      table.grids.forEach(function (g) {
        self.rows[g.grid_id] = g;
        var layer = self.byGrid[g.grid_id];
        if (!layer) { return; }
        layer.setStyle({fillColor: g["class"] === null ? NO_DATA : palette[g["class"]]});
        layer.bindTooltip(esc(g.name) + "：" + esc(fmt(g.value, table.unit)), {sticky: true});
      });
      self.drawLegend(table, palette);
      self.drawRanking(table);
      if (self.selected) { self.select(self.selected); }
      self.root.dataset.metric = table.metric;
      var report = document.getElementById("report-link");
      if (report) { report.href = report.dataset.base + "?metric=" + encodeURIComponent(table.metric); }
      self.root.dataset.loaded = "true";
      self.status.textContent = interpolate(gettext("%(n)s 个网格，按“%(metric)s”分级"),
        {n: table.grids.length, metric: table.label}, true);
      self.status.classList.add("done");
    });
  };

  Dashboard.prototype.drawLegend = function (table, palette) {
    if (this.legend) { this.map.removeControl(this.legend); }
    var legend = L.control({position: "bottomright"});
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "legend");
      div.id = "legend";
      var items = table.legend.map(function (entry) {
        return "<div class=\"legend-class\"><span class=\"key swatch\" style=\"--c:" + esc(palette[entry["class"]]) +
          "\"></span>" + esc(entry.label) + "</div>";
      });
      items.push("<div><span class=\"key swatch nodata\"></span>" + esc(gettext("无数据")) + "</div>");
      items.push("<div><span class=\"key ring\" style=\"--c:#6a3d9a\"></span>" + esc(gettext("服务站及服务半径")) + "</div>");
      var asked = document.getElementById("scheme").value, got = table.classification && table.classification.scheme;
      if (asked === "quantiles" && got === "fisher_jenks") {  // ties collapsed the quantiles (geodata/choropleth.py)
        items.push("<p class=\"legend-note\" id=\"classification-note\">" +
          esc(gettext("分位数因数值大量相同而合并为一类，已改用自然断点")) + "</p>");
      }
      div.innerHTML = "<details open><summary>" + esc(table.label) + "</summary>" + items.join("") + "</details>";
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    legend.addTo(this.map);
    this.legend = legend;
  };

  Dashboard.prototype.drawRanking = function (table) {
    var self = this;
    document.getElementById("ranking-metric").textContent = table.label;
    var body = document.getElementById("ranking");
    var prefix = this.prefix || "";   // drill-down: only the grids of one street or community
    body.innerHTML = table.grids.filter(function (g) { return g.code.indexOf(prefix) === 0; }).map(function (g, i) {
      return "<tr data-grid=\"" + esc(g.grid_id) + "\"><td>" + esc(i + 1) + "</td><td>" + esc(g.name) + "<br><small>" +
        esc(g.code) + "</small></td><td class=\"num\">" + esc(fmt(g.value, table.unit)) + "</td><td>" +
        g.problems.map(function (p) { return "<span class=\"problem\" title=\"" + esc(p.text) + "\">" +
          esc(p.text) + "</span>"; }).join("") + "</td></tr>";
    }).join("");
    Array.prototype.forEach.call(body.querySelectorAll("tr"), function (tr) {
      tr.addEventListener("click", function () { self.select(Number(tr.dataset.grid), true); });
    });
  };

  Dashboard.prototype.select = function (gridId, zoom) {
    this.selected = gridId;
    var g = this.rows && this.rows[gridId];
    Array.prototype.forEach.call(document.querySelectorAll("#ranking tr"), function (tr) {
      tr.classList.toggle("selected", Number(tr.dataset.grid) === gridId);
    });
    var box = document.getElementById("grid-detail");
    if (!g) { return; }
    var facts = [
      [gettext("住户数"), fmt(g.households, gettext("户"))],
      [gettext("服务站覆盖率"), fmt(g.covered_pct, "%")],
      [gettext("中心户联系率"), fmt(g.linked_pct, "%")],
      [gettext("网格长"), g.leaders], [gettext("专职网格员"), g.fulltime],
      [gettext("每名专职网格员服务户数"), fmt(g.per_fulltime, gettext("户"))],
      [gettext("困难户"), fmt(g.vulnerable)], [gettext("未覆盖困难户"), fmt(g.vulnerable_uncovered)]
    ];
    box.className = "grid-detail";
    box.innerHTML = "<h2>" + esc(g.name) + " <small>" + esc(g.code) + "</small></h2><dl>" +
      facts.map(function (f) { return "<dt>" + esc(f[0]) + "</dt><dd>" + esc(f[1]) + "</dd>"; }).join("") + "</dl>" +
      (g.problems.length ? "<h3>" + esc(gettext("未达标原因")) + "</h3><ul id=\"grid-problems\">" +
        g.problems.map(function (p) { return "<li data-code=\"" + esc(p.code) + "\">" + esc(p.text) + "</li>"; }).join("") +
        "</ul>" : "<p class=\"ok\" id=\"grid-problems\">" + esc(gettext("各项规则均已达标")) + "</p>");
    var layer = this.byGrid[gridId];
    if (layer && zoom) { this.map.fitBounds(layer.getBounds(), {maxZoom: 16}); }
  };

  Dashboard.prototype.showHeat = function () {
    var self = this;
    var select = document.getElementById("heat"), which = select.value;
    if (this.heat) { this.map.removeLayer(this.heat); this.heat = null; }
    if (this.heatLegend) { this.map.removeControl(this.heatLegend); this.heatLegend = null; }
    this.grids.setStyle({fillOpacity: which ? FILL_UNDER_HEAT : FILL});
    if (!which) { return Promise.resolve(); }
    return getJSON(GM.url("planner-heat") + "?layer=" + encodeURIComponent(which)).then(function (data) {
      if (!HeatAbove || !data.points.length || select.value !== which) { return; }
      self.heat = new HeatAbove(data.points, {radius: 30, blur: 20, max: data.max || 1, minOpacity: 0.3}).addTo(self.map);
      self.drawHeatLegend(select.options[select.selectedIndex].text, data);
      if (data.suppressed_cells) {
        self.status.textContent = interpolate(gettext("%(n)s 个住户少于 %(min)s 户的单元格未显示"),
          {n: data.suppressed_cells, min: data.suppressed_below}, true);
      }
    });
  };

  /* The heat layer's own legend: what it shows and its colour ramp from few to many households per cell. */
  Dashboard.prototype.drawHeatLegend = function (title, data) {
    var legend = L.control({position: "bottomleft"});
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "legend heat-legend");
      div.id = "heat-legend";
      div.innerHTML = "<strong>" + esc(interpolate(gettext("热力图：%(layer)s"), {layer: title}, true)) + "</strong>" +
        "<div class=\"heat-ramp\" style=\"background:" + HEAT_GRADIENT + "\"></div>" +
        "<div class=\"heat-scale\"><span>" + esc(gettext("少")) + "</span><span>" +
        esc(interpolate(gettext("多（每格 %(max)s 户）"), {max: data.max || 1}, true)) + "</span></div>";
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    legend.addTo(this.map);
    this.heatLegend = legend;
  };

  function init(map) {
    var root = document.getElementById("planner-root");
    var dash = new Dashboard(map, root);
    var fail = function (err) {
      dash.status.textContent = gettext("地图数据加载失败") + "：" + (err.message || GM.refusalText(err));
      dash.status.classList.add("error");
    };
    window.GridPlanner.dashboard = dash;
    dash.load().then(function () { return dash.showMetric(); }).then(function () {
      document.dispatchEvent(new CustomEvent("planner:ready", {detail: dash}));   // planner_scenarios.js
    }).catch(fail);
    document.getElementById("metric").addEventListener("change", function () { dash.showMetric().catch(fail); });
    document.getElementById("scheme").addEventListener("change", function () { dash.showMetric().catch(fail); });
    document.getElementById("heat").addEventListener("change", function () { dash.showHeat().catch(fail); });
  }

  window.GridPlanner = {init: init};
})();
