/* Planner dashboard, second half (issue #6): drill-down street → community → grid with the figures at each
 * level, a Ctrl-click selection of grids with its totals, and what-if stations (drop a new one, drag an
 * existing one) with before/after figures from the server's delta, saved as proposals others can open.
 * Aggregates only: every answer used here is counts per grid or per cell. Starts on "planner:ready". */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate, fmt = GM.fmt;

  /* GM.api: GET without a body, otherwise POST; rejects with the server's refusal (already shown by core). */
  function call(method, url, body) { return GM.api(url, {method: method, body: body}); }
  function reason(err) { return err instanceof Error ? err.message : GM.refusalText(err); }

  function pct(part, whole) { return whole ? 100 * part / whole : null; }
  function fmtPct(value) { return value === null || value === undefined ? "—" : value.toFixed(2) + "%"; }

  function Scenarios(dash) {
    this.dash = dash;
    this.map = dash.map;
    this.root = dash.root;
    this.changes = [];          // {station, lon, lat, radius_m, marker, ring}
    this.selection = {};
    this.cells = L.layerGroup().addTo(this.map);
    this.markers = L.layerGroup().addTo(this.map);
    this.result = document.getElementById("whatif-result");
  }

  /* -- drill-down ------------------------------------------------------------------------------------ */
  Scenarios.prototype.loadAreas = function () {
    var self = this, url = GM.url("planner-areas");
    return Promise.all([call("GET", url + "?level=street"), call("GET", url + "?level=community")]).then(function (r) {
      self.streets = r[0].areas;
      self.communities = r[1].areas;
      self.showLevel(null, null);
    });
  };

  Scenarios.prototype.showLevel = function (street, community) {
    var self = this;
    this.street = street;
    this.community = community;
    var rows = community ? [community] : street ? this.communities.filter(function (c) {
      return c.code.indexOf(street.code) === 0;
    }) : this.streets;
    this.root.dataset.level = community ? "grid" : street ? "community" : "street";
    this.dash.prefix = community ? community.code : street ? street.code : "";
    if (this.dash.table) { this.dash.drawRanking(this.dash.table); }
    var crumbs = ['<a data-go="top">' + esc(gettext("全部")) + "</a>"];
    if (street) { crumbs.push('<a data-go="street">' + esc(street.name) + "</a>"); }
    if (community) { crumbs.push("<span>" + esc(community.name) + "</span>"); }
    var nav = document.getElementById("area-crumbs");
    nav.innerHTML = crumbs.join(" › ");
    nav.querySelectorAll("a").forEach(function (a) {
      a.addEventListener("click", function () {
        if (a.dataset.go === "top") { self.showLevel(null, null); } else { self.showLevel(self.street, null); }
      });
    });
    var body = document.getElementById("areas");
    body.innerHTML = rows.map(function (a, i) {
      return '<tr data-index="' + i + '" data-code="' + esc(a.code) + '"><td>' + esc(a.name) + "<br><small>" +
        esc(a.grids) + " " + esc(gettext("个网格")) + (a.unassigned ? " · " + esc(interpolate(
          gettext("%(n)s 户不在网格内"), {n: a.unassigned}, true)) : "") + "</small></td><td class=\"num\">" +
        esc(a.households) + '</td><td class="num">' + esc(fmt(a.covered_pct)) + '%</td><td class="num">' +
        esc(fmt(a.linked_pct)) + '%</td><td class="num">' + esc(fmt(a.vulnerable_uncovered)) + "</td></tr>";
    }).join("");
    body.querySelectorAll("tr").forEach(function (tr) {
      tr.addEventListener("click", function () {
        var area = rows[Number(tr.dataset.index)];
        if (!street) { self.showLevel(area, null); } else if (!community) { self.showLevel(street, area); }
        self.zoomTo(area.code);
      });
    });
  };

  Scenarios.prototype.zoomTo = function (prefix) {
    var bounds = null, dash = this.dash;
    Object.keys(dash.byGrid).forEach(function (id) {
      var row = dash.rows && dash.rows[id];
      if (row && row.code.indexOf(prefix) === 0) {
        var b = dash.byGrid[id].getBounds();
        bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
      }
    });
    if (bounds && bounds.isValid()) { this.map.fitBounds(bounds, {padding: [10, 10]}); }
  };

  /* -- selection ------------------------------------------------------------------------------------- */
  Scenarios.prototype.toggle = function (gridId, layer) {
    if (this.selection[gridId]) { delete this.selection[gridId]; layer.setStyle({weight: 1, color: "#37474f"}); }
    else { this.selection[gridId] = true; layer.setStyle({weight: 3, color: "#1565c0"}); }
    var ids = Object.keys(this.selection).map(Number);
    if (!ids.length) { document.getElementById("selection-result").innerHTML = ""; return Promise.resolve(); }
    return this.showSelection({grids: ids});
  };

  /* A drawn polygon selects the grids whose area it overlaps (the server decides, as for ids). */
  Scenarios.prototype.drawSelection = function () {
    var self = this;
    if (!this.map.pm) { return; }
    this.map.pm.enableDraw("Polygon", {allowSelfIntersection: false});
    this.map.once("pm:create", function (e) {
      var polygon = e.layer.toGeoJSON().geometry;
      self.map.removeLayer(e.layer);
      self.showSelection({polygon: polygon}).then(function (s) {
        Object.keys(self.selection).forEach(function (id) { self.dash.byGrid[id].setStyle({weight: 1, color: "#37474f"}); });
        self.selection = {};
        s.grid_ids.forEach(function (id) {
          if (self.dash.byGrid[id]) { self.selection[id] = true; self.dash.byGrid[id].setStyle({weight: 3, color: "#1565c0"}); }
        });
      }).catch(function (err) { document.getElementById("selection-result").textContent = reason(err); });
    });
  };

  Scenarios.prototype.showSelection = function (body) {
    var box = document.getElementById("selection-result");
    return call("POST", GM.url("planner-selection"), body).then(function (s) {
      box.innerHTML = '<p class="selection-fig" id="selection-figures" data-households="' + esc(s.households) + '">' +
        esc(interpolate(gettext("已选 %(g)s 个网格：%(h)s 户，覆盖率 %(c)s%，联系率 %(l)s%，未覆盖困难户 %(v)s"),
          {g: s.grids, h: s.households, c: fmt(s.covered_pct), l: fmt(s.linked_pct), v: fmt(s.vulnerable_uncovered)},
          true)) + "</p>";
      box.dataset.grids = s.grid_ids.join(",");
      return s;
    });
  };

  /* -- what-if --------------------------------------------------------------------------------------- */
  Scenarios.prototype.radius = function () {
    var r = Number(document.getElementById("whatif-radius").value);
    return Number.isInteger(r) && r > 0 && r <= 20000 ? r : 500;
  };

  Scenarios.prototype.place = function (change) {
    var self = this;
    var icon = L.divIcon({className: "", html: '<div class="whatif-station' + (change.station ? " moved" : "") + '"></div>',
                          iconSize: [14, 14], iconAnchor: [7, 7]});
    change.marker = L.marker([change.lat, change.lon], {icon: icon, draggable: true}).addTo(this.markers);
    change.ring = L.circle([change.lat, change.lon], {radius: change.radius_m, color: "#2e7d32", weight: 2,
                                                      dashArray: "6 4", fillOpacity: 0.08, interactive: false})
      .addTo(this.markers);
    change.marker.on("dragend", function () {
      var at = change.marker.getLatLng();
      change.lat = at.lat;
      change.lon = at.lng;
      change.ring.setLatLng(at);
      self.recompute();
    });
    this.changes.push(change);
  };

  Scenarios.prototype.startAdd = function () {
    var self = this, button = document.getElementById("whatif-add");
    button.classList.add("active");
    this.root.classList.add("map-picking");
    this.map.once("click", function (e) {
      button.classList.remove("active");
      self.root.classList.remove("map-picking");
      self.place({station: null, lon: e.latlng.lng, lat: e.latlng.lat, radius_m: self.radius()});
      self.recompute();
    });
  };

  Scenarios.prototype.startMove = function () {
    var self = this;
    document.getElementById("whatif-move").classList.add("active");
    return call("GET", GM.url("layer-stations")).then(function (fc) {
      (fc.features || []).forEach(function (f) {
        if (self.changes.some(function (c) { return c.station === f.id; })) { return; }
        var c = f.geometry.coordinates;
        self.place({station: f.id, lon: c[0], lat: c[1], radius_m: f.properties.radius_m, untouched: true});
      });
      self.changes.forEach(function (c) {
        if (c.untouched) { c.marker.once("dragstart", function () { c.untouched = false; }); }
      });
    });
  };

  Scenarios.prototype.payload = function () {
    return this.changes.filter(function (c) { return !c.untouched; }).map(function (c) {
      return {station: c.station, lon: c.lon, lat: c.lat, radius_m: c.radius_m};
    });
  };

  Scenarios.prototype.clear = function () {
    this.changes = [];
    this.markers.clearLayers();
    this.cells.clearLayers();
    document.getElementById("whatif-move").classList.remove("active");
    document.getElementById("proposal-save").disabled = true;
    this.result.dataset.state = "empty";
    this.result.innerHTML = "";
  };

  Scenarios.prototype.recompute = function () {
    var self = this, stations = this.payload();
    if (!stations.length) { return Promise.resolve(); }
    this.result.dataset.state = "busy";
    return call("POST", GM.url("planner-what-if"), {stations: stations}).then(function (data) {
      self.render(data, stations);
    }).catch(function (err) { self.fail(err); });
  };

  Scenarios.prototype.fail = function (err) {
    this.result.dataset.state = "error";
    this.result.innerHTML = '<p class="error">' + esc(reason(err)) + "</p>";
  };

  Scenarios.prototype.render = function (data, stations) {
    var grids = this.dash.table ? this.dash.table.grids : [];
    var households = 0, covered = 0;
    grids.forEach(function (g) { households += g.households; covered += g.covered; });
    // A planner's answer withholds a change of fewer than 5 households (net null, counts "<5"): no "after".
    var before = pct(covered, households), after = typeof data.net === "number" ? pct(covered + data.net, households) : null;
    var r = this.result;
    r.dataset.state = "done";
    r.dataset.gained = data.gained;
    r.dataset.lost = data.lost;
    r.dataset.households = households;
    r.dataset.coveredBefore = covered;
    r.dataset.stations = JSON.stringify(stations);
    r.innerHTML = '<div class="whatif-figures">' +
      "<span>" + esc(gettext("服务站覆盖率")) + '</span><span><span id="whatif-before">' + esc(fmtPct(before)) +
      '</span> → <span id="whatif-after" class="' + esc(data.net === null || data.net >= 0 ? "up" : "down") + '">' +
      esc(after === null ? interpolate(gettext("变化少于 %(min)s 户，不显示"), {min: data.suppressed_below}, true) : fmtPct(after)) +
      "</span></span><span>" + esc(gettext("新增覆盖")) + '</span><span id="whatif-gained" class="up">+' +
      esc(data.gained) + " " + esc(gettext("户")) + "</span><span>" + esc(gettext("失去覆盖")) +
      '</span><span id="whatif-lost" class="down">−' + esc(data.lost) + " " + esc(gettext("户")) + "</span><span>" +
      esc(gettext("未覆盖困难户变化")) + '</span><span id="whatif-needy">' + esc(data.vulnerable_uncovered_change) +
      "</span></div>" + (data.grids.length ? '<table class="ranking"><thead><tr><th>' + esc(gettext("网格")) +
      "</th><th>" + esc(gettext("覆盖率")) + "</th></tr></thead><tbody>" + data.grids.map(function (g) {
        return "<tr><td>" + esc(g.name) + '</td><td class="num">' + esc(fmt(g.covered_pct_before)) + "% → " +
          (g.suppressed ? "—" : esc(fmt(g.covered_pct_after)) + "%") + "</td></tr>";
      }).join("") + "</tbody></table>" : "") + (data.withheld_cells ? '<p class="muted">' + esc(interpolate(
        gettext("%(n)s 个少于 %(min)s 户的单元格未显示"), {n: data.withheld_cells, min: data.suppressed_below}, true)) +
        "</p>" : "");
    this.cells.clearLayers();
    var self = this;
    data.cells.forEach(function (c) {
      L.circleMarker([c[0], c[1]], {radius: 4 + Math.min(10, Math.sqrt(c[2])), color: "#1b5e20", weight: 1,
                                    fillColor: "#66bb6a", fillOpacity: 0.7, className: "whatif-cell"})
        .bindTooltip(interpolate(gettext("新增覆盖 %(n)s 户"), {n: c[2]}, true)).addTo(self.cells);
    });
    document.getElementById("proposal-save").disabled = false;
  };

  /* -- proposals ------------------------------------------------------------------------------------- */
  Scenarios.prototype.listProposals = function () {
    var self = this;
    return call("GET", GM.url("planner-proposals")).then(function (data) {
      var list = document.getElementById("proposal-list");
      list.innerHTML = data.proposals.map(function (p) {
        return '<li><a data-id="' + esc(p.id) + '">' + esc(p.name) + "</a> <small>" + esc(p.author) + " · " +
          esc(p.created.slice(0, 10)) + " · " + esc(interpolate(gettext("%(n)s 个服务站"), {n: p.stations}, true)) +
          "</small></li>";
      }).join("") || "<li class=\"muted\">" + esc(gettext("暂无")) + "</li>";
      list.querySelectorAll("a[data-id]").forEach(function (a) {
        a.addEventListener("click", function () { self.open(Number(a.dataset.id)); });
      });
    });
  };

  Scenarios.prototype.save = function () {
    var self = this, name = document.getElementById("proposal-name").value.trim();
    var body = {name: name, stations: this.payload()};
    if (this.street) { body.street = this.street.code; }
    else if (this.streets && this.streets.length === 1) { body.street = this.streets[0].code; }
    return call("POST", GM.url("planner-proposals"), body).then(function () {
      document.getElementById("proposal-name").value = "";
      return self.listProposals();
    }).catch(function (err) { self.fail(err); });
  };

  Scenarios.prototype.open = function (id) {
    var self = this;
    return call("GET", GM.url("planner-proposal", id)).then(function (p) {
      self.clear();
      p.what_if.stations.forEach(function (s) { self.place({station: s.station, lon: s.lon, lat: s.lat, radius_m: s.radius_m}); });
      self.render(p.what_if, self.payload());
      self.result.dataset.proposal = id;
    }).catch(function (err) { self.fail(err); });
  };

  document.addEventListener("planner:ready", function (event) {
    var s = new Scenarios(event.detail);
    window.GridPlanner.scenarios = s;
    Object.keys(s.dash.byGrid).forEach(function (id) {
      s.dash.byGrid[id].on("click", function (e) {
        if (e.originalEvent && (e.originalEvent.ctrlKey || e.originalEvent.metaKey)) { s.toggle(Number(id), e.target); }
      });
    });
    document.getElementById("whatif-add").addEventListener("click", function () { s.startAdd(); });
    document.getElementById("select-draw").addEventListener("click", function () { s.drawSelection(); });
    document.getElementById("whatif-move").addEventListener("click", function () { s.startMove(); });
    document.getElementById("whatif-clear").addEventListener("click", function () { s.clear(); });
    document.getElementById("proposal-save").addEventListener("click", function () { s.save(); });
    document.getElementById("metric").addEventListener("change", function () {
      var link = document.getElementById("print-link");
      link.href = link.dataset.base + "?metric=" + encodeURIComponent(document.getElementById("metric").value);
    });
    Promise.all([s.loadAreas(), s.listProposals()]).then(function () {
      s.root.dataset.scenarios = "ready";
    }).catch(function (err) { s.fail(err); });
  });
})();
