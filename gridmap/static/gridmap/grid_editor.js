/* Grid editor: Leaflet-Geoman on a django-leaflet map. Draw, reshape (snapping to neighbours and the
 * community boundary), split with a line, merge two grids, retire, publish, topology and history.
 * Every write goes to /api/grids/…; the server's validator decides, this page only shows its answer.
 * Household counts while drawing are computed here from the loaded dots, so they follow the mouse. */
(function () {
  "use strict";
  var gettext = window.gettext || function (s) { return s; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\((\w+)\)s/g, function (_, k) { return obj[k]; });
  };
  var S = {map: null, community: null, grids: null, gridLayers: {}, selected: null, mergeWith: null,
           mode: null, working: null, points: [], band: null, outline: null, marks: null, dots: null};

  function esc(v) {
    return String(v === null || v === undefined ? "" : v).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function $(id) { return document.getElementById(id); }
  function csrf() { var i = document.querySelector("[name=csrfmiddlewaretoken]"); return i ? i.value : ""; }

  function api(method, url, body) {
    return fetch(url, {method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (r) { return r.json().then(function (d) { return {ok: r.ok, status: r.status, data: d}; }); });
  }

  function say(text, kind) {
    var box = $("editor-message");
    box.textContent = text;
    box.className = "message " + (kind || "");
  }

  function bandColour(n) {
    if (n < S.band.min) { return "#e69f00"; }
    if (n > S.band.max) { return "#d55e00"; }
    return "#009e73";
  }

  /* Point in polygon (even-odd over all rings, so holes count out) on [lng, lat] pairs. */
  function inRings(x, y, rings) {
    var inside = false;
    rings.forEach(function (ring) {
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
        if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { inside = !inside; }
      }
    });
    return inside;
  }
  function countIn(latlngs) {
    var rings = (Array.isArray(latlngs[0]) ? latlngs : [latlngs]).map(function (r) {
      return r.map(function (p) { return [p.lng, p.lat]; });
    });
    if (!rings.length || rings[0].length < 3) { return 0; }
    return S.points.filter(function (p) { return inRings(p[0], p[1], rings); }).length;
  }
  function showLive(n) {
    var ok = n >= S.band.min && n <= S.band.max;
    $("live-count").innerHTML = interpolate(gettext("当前图形内 %(n)s 户，目标 %(min)s–%(max)s 户"),
      {n: "<strong id=\"live-n\">" + n + "</strong>", min: S.band.min, max: S.band.max}, true) +
      (ok ? "" : " <span class=\"warn\">" + gettext("超出目标范围") + "</span>");
  }

  function geometryOf(layer) {
    var g = layer.toGeoJSON().geometry;
    return g;
  }

  function setButtons() {
    var sel = S.selected, idle = !S.mode;
    $("tool-draw").disabled = !idle;
    ["tool-edit", "tool-split", "tool-retire"].forEach(function (id) { $(id).disabled = !idle || !sel; });
    $("tool-merge").disabled = !idle || !sel;
    $("tool-save").disabled = !(S.mode === "draw-done" || S.mode === "edit");
    $("tool-cancel").disabled = idle;
  }

  function loadCommunity(id) {
    S.community = S.communities.filter(function (c) { return c.id === id; })[0];
    $("publish").hidden = !S.community.publish;
    return Promise.all([
      fetch("/api/communities/" + id + "/grids.geojson", {credentials: "same-origin"}).then(function (r) { return r.json(); }),
      api("GET", "/api/communities/" + id + "/topology")
    ]).then(function (res) {
      drawGrids(res[0]);
      drawTopology(res[1].data);
      $("map-root").dataset.loaded = "true";
      $("map-status").textContent = interpolate(gettext("已加载 %(n)s 个网格"), {n: res[0].features.length}, true);
    });
  }

  function drawGrids(fc) {
    if (S.grids) { S.map.removeLayer(S.grids); }
    S.gridLayers = {};
    S.grids = L.geoJSON(fc, {
      style: function (f) {
        var p = f.properties;
        return {color: p.status === "draft" ? "#6a1b9a" : "#37474f", weight: p.pending ? 3 : 1,
                dashArray: p.pending ? "6 4" : null, fillColor: bandColour(p.households), fillOpacity: 0.3,
                className: "editor-grid grid-" + p.code};
      },
      onEachFeature: function (f, layer) {
        S.gridLayers[f.id] = layer;
        layer.feature = f;
        layer.on("click", function (e) { pick(f.id, e.originalEvent.shiftKey); });
      }
    }).addTo(S.map);
    var list = $("grid-list");
    list.innerHTML = fc.features.map(function (f) {
      var p = f.properties;
      var status = p.retire_on_publish ? gettext("待撤销") : (p.status === "draft" ? gettext("草稿") :
        (p.pending ? gettext("已修改待发布") : gettext("已发布")));
      return "<li data-id=\"" + f.id + "\" data-code=\"" + esc(p.code) + "\"><span class=\"swatch\" style=\"--c:" +
        bandColour(p.households) + "\"></span><strong>" + esc(p.name) + "</strong> <small>" + esc(p.code) +
        "</small><br><span class=\"hh\">" + interpolate(gettext("%(n)s 户"), {n: p.households}, true) +
        "</span> · " + status + " · v" + p.version + "</li>";
    }).join("");
    Array.prototype.forEach.call(list.children, function (li) {
      li.addEventListener("click", function (e) { pick(Number(li.dataset.id), e.shiftKey); });
    });
    if (S.selected && !S.gridLayers[S.selected]) { S.selected = null; }
    highlight();
    setButtons();
  }

  function highlight() {
    Object.keys(S.gridLayers).forEach(function (id) {
      var on = Number(id) === S.selected || Number(id) === S.mergeWith;
      S.gridLayers[id].setStyle({weight: on ? 4 : (S.gridLayers[id].feature.properties.pending ? 3 : 1),
                                 color: on ? "#1565c0" : (S.gridLayers[id].feature.properties.status === "draft" ? "#6a1b9a" : "#37474f")});
    });
    Array.prototype.forEach.call($("grid-list").children, function (li) {
      li.classList.toggle("selected", Number(li.dataset.id) === S.selected);
    });
  }

  function pick(id, second) {  // a click on a grid: the second grid of a merge, or a selection
    if (S.mode === "merge") { return merge(id); }
    if (!S.mode) { select(id, second); }
  }

  function select(id, second) {
    if (S.mode === "merge" || (second && S.selected && id !== S.selected)) { return merge(id); }
    S.selected = id;
    highlight();
    setButtons();
    var f = S.gridLayers[id].feature;
    showLive(f.properties.households);
    loadHistory(id);
  }

  function finish(result, okText) {
    S.map.pm.disableDraw();
    if (S.working) { S.map.removeLayer(S.working); S.working = null; }
    S.mode = null;
    S.mergeWith = null;
    S.marks.clearLayers();
    // The message comes after the reload, so what it says is already on the map and in the list.
    return loadCommunity(S.community.id).then(function () { say(okText, "ok"); });
  }

  function refused(res) {
    var d = res.data || {};
    say(d.detail || (gettext("保存失败") + " " + res.status), "error");
    S.marks.clearLayers();
    if (d.geometry) { L.geoJSON(d.geometry, {style: {color: "#c62828", weight: 2, fillOpacity: 0.6, className: "overlap-area"}}).addTo(S.marks); }
    if (d.location) { L.circleMarker([d.location[1], d.location[0]], {radius: 8, color: "#c62828"}).addTo(S.marks); }
    if (d.code === "stale_version" && d.current) {  // show theirs beside ours; ours stays editable
      L.geoJSON(d.current.geometry, {style: {color: "#ff6f00", weight: 2, dashArray: "2 4", fill: false}}).addTo(S.marks);
    }
  }

  function startDraw() {
    S.mode = "draw";
    S.marks.clearLayers();
    S.map.pm.enableDraw("Polygon", {snappable: true, snapDistance: 15, allowSelfIntersection: false,
                                    templineStyle: {color: "#1565c0"}, hintlineStyle: {color: "#1565c0", dashArray: "4 4"}});
    say(gettext("在地图上依次点击各顶点，点击第一个顶点完成"), "");
    setButtons();
  }

  function startEdit() {
    var layer = S.gridLayers[S.selected];
    S.mode = "edit";
    S.working = L.polygon(layer.getLatLngs(), {color: "#1565c0", weight: 3}).addTo(S.map);
    S.working.pm.enable({snappable: true, snapDistance: 15, allowSelfIntersection: false});
    S.working.on("pm:markerdrag pm:edit pm:vertexadded pm:vertexremoved", function () { showLive(countIn(S.working.getLatLngs())); });
    layer.setStyle({opacity: 0.2, fillOpacity: 0.05});
    say(gettext("拖动顶点修改边界，完成后点击保存"), "");
    setButtons();
  }

  function save() {
    var clip = $("clip").checked;
    var geometry = geometryOf(S.working);
    var req = S.mode === "edit"
      ? api("POST", "/api/grids/" + S.selected + "/boundary",
            {geometry: geometry, version: S.gridLayers[S.selected].feature.properties.version, clip: clip})
      : api("POST", "/api/grids/", {community: S.community.id, geometry: geometry, clip: clip});
    req.then(function (res) {
      if (!res.ok) { return refused(res); }
      if (S.working && S.working.pm) { S.working.pm.disable(); }
      S.selected = res.data.id;
      finish(res, interpolate(gettext("已保存 %(name)s（%(n)s 户），发布后生效"),
                              {name: res.data.name, n: res.data.households}, true));
    });
  }

  function startSplit() {
    S.mode = "split";
    S.map.pm.enableDraw("Line", {snappable: false});
    say(gettext("画一条穿过网格的线，双击或点击最后一点结束"), "");
    setButtons();
  }

  function merge(other) {
    if (!other || other === S.selected) {
      S.mode = "merge";
      say(gettext("请点击要合并的相邻网格"), "");
      return setButtons();
    }
    S.mergeWith = other;
    highlight();
    var versions = {};
    versions[S.selected] = S.gridLayers[S.selected].feature.properties.version;
    versions[other] = S.gridLayers[other].feature.properties.version;
    api("POST", "/api/grids/merge", {grids: [S.selected, other], versions: versions}).then(function (res) {
      S.mode = null;
      if (!res.ok) { S.mergeWith = null; setButtons(); return refused(res); }
      S.selected = res.data.id;
      finish(res, interpolate(gettext("已合并为 %(name)s（%(n)s 户）"), {name: res.data.name, n: res.data.households}, true));
    });
  }

  function retire() {
    if (!window.confirm(gettext("确定撤销此网格？已发布的网格在发布后撤销，代码不再使用。"))) { return; }
    var p = S.gridLayers[S.selected].feature.properties;
    api("POST", "/api/grids/" + S.selected + "/retire", {version: p.version}).then(function (res) {
      if (!res.ok) { return refused(res); }
      S.selected = null;
      finish(res, gettext("已撤销"));
    });
  }

  function cancel() {
    S.map.pm.disableDraw();
    if (S.working) { S.working.pm && S.working.pm.disable(); S.map.removeLayer(S.working); S.working = null; }
    S.mode = null;
    S.mergeWith = null;
    S.marks.clearLayers();
    say("", "");
    loadCommunity(S.community.id);
  }

  function drawTopology(r) {
    S.issues.clearLayers();
    if (!r || !r.gaps) { return; }
    $("topology-summary").innerHTML = interpolate(gettext("覆盖率 %(pct)s%，缝隙 %(gaps)s 处（细缝 %(slivers)s），重叠 %(overlaps)s 处"),
      {pct: r.coverage_pct, gaps: r.gaps.length, slivers: r.slivers, overlaps: r.overlaps.length}, true) +
      (r.gap_households && r.gap_households.count ? "<br><span class=\"warn\">" +
       interpolate(gettext("%(n)s 户在缝隙中，不属于任何网格"), {n: r.gap_households.count}, true) + "</span>" : "");
    var items = [];
    r.gaps.forEach(function (g, i) {
      L.geoJSON(g.geometry, {style: {color: "#ef6c00", weight: 1, dashArray: "3 3", fillColor: "#ffb74d", fillOpacity: 0.55, className: "gap-area"}}).addTo(S.issues);
      items.push("<li>" + interpolate(gettext("缝隙 %(a)s 平方米"), {a: g.area_m2}, true) +
        (g.sliver ? " <button type=\"button\" class=\"fix\" data-i=\"" + i + "\">" + gettext("并入相邻网格") + "</button>" : "") + "</li>");
    });
    r.overlaps.forEach(function (o) {
      L.geoJSON(o.geometry, {style: {color: "#6a1b9a", weight: 1, fillColor: "#6a1b9a", fillOpacity: 0.5}}).addTo(S.issues);
      items.push("<li>" + interpolate(gettext("重叠 %(a)s 平方米：%(g)s"), {a: o.area_m2, g: o.grids.join(" / ")}, true) + "</li>");
    });
    (r.gap_households ? r.gap_households.rows : []).forEach(function (h) {
      L.circleMarker([h.lat, h.lon], {radius: 5, color: "#c62828", fillOpacity: 1}).bindTooltip(esc(h.address)).addTo(S.issues);
    });
    $("topology-list").innerHTML = items.join("");
    Array.prototype.forEach.call(document.querySelectorAll("#topology-list .fix"), function (b) {
      b.addEventListener("click", function () {
        api("POST", "/api/communities/" + S.community.id + "/topology/fix-sliver", {point: r.gaps[b.dataset.i].label})
          .then(function (res) { return res.ok ? finish(res, gettext("细缝已并入相邻网格")) : refused(res); });
      });
    });
  }

  function loadHistory(id) {
    api("GET", "/api/grids/" + id + "/history").then(function (res) {
      $("history").hidden = !res.ok;
      if (!res.ok) { return; }
      $("history-list").innerHTML = res.data.versions.map(function (v) {
        return "<li>v" + v.number + " · " + esc(v.created_by || "—") + " · " + esc(v.created_at.slice(0, 16).replace("T", " ")) +
          (v.reason ? " · " + esc(v.reason) : "") + " <button type=\"button\" data-n=\"" + v.number + "\" class=\"diff\">" +
          gettext("对比") + "</button> <button type=\"button\" data-n=\"" + v.number + "\" class=\"restore\">" + gettext("恢复") + "</button></li>";
      }).join("") || "<li>" + gettext("尚无发布记录") + "</li>";
      Array.prototype.forEach.call(document.querySelectorAll("#history-list .diff"), function (b) {
        b.addEventListener("click", function () { showDiff(id, b.dataset.n); });
      });
      Array.prototype.forEach.call(document.querySelectorAll("#history-list .restore"), function (b) {
        b.addEventListener("click", function () {
          api("POST", "/api/grids/" + id + "/versions/" + b.dataset.n + "/restore",
              {version: S.gridLayers[id].feature.properties.version})
            .then(function (res) { return res.ok ? finish(res, gettext("已恢复为草稿，发布后生效")) : refused(res); });
        });
      });
    });
  }

  function showDiff(id, n) {
    api("GET", "/api/grids/" + id + "/versions/" + n + "/diff").then(function (res) {
      if (!res.ok) { return refused(res); }
      S.marks.clearLayers();
      var d = res.data;
      if (d.old) { L.geoJSON(d.old.geometry, {style: {color: "#757575", weight: 2, dashArray: "4 4", fill: false}}).addTo(S.marks); }
      L.geoJSON(d.new.geometry, {style: {color: "#1565c0", weight: 3, fill: false}}).addTo(S.marks);
      $("diff").innerHTML = "<p>" + interpolate(gettext("v%(n)s 与上一版相比，%(k)s 户改变了网格"), {n: n, k: d.households.length}, true) +
        "</p><ul>" + d.households.map(function (h) {
          return "<li>" + esc(h.address) + " " + esc(h.head_name) + " · " + (h.change === "joined" ? gettext("划入") : gettext("划出")) + "</li>";
        }).join("") + "</ul>";
    });
  }

  function publish() {
    api("POST", "/api/communities/" + S.community.id + "/publish",
        {reason: $("publish-reason").value, override_reason: $("override-reason").value || null})
      .then(function (res) {
        if (!res.ok) { refused(res); if (res.data.report) { drawTopology(res.data.report); } return; }
        finish(res, interpolate(gettext("已发布 %(n)s 个网格，%(k)s 户重新归属"), {n: res.data.published, k: res.data.rehomed}, true));
      });
  }

  function init(map) {
    S.map = map;
    var root = $("editor-root");
    S.band = {min: Number(root.dataset.bandMin), max: Number(root.dataset.bandMax)};
    S.communities = JSON.parse($("editor-communities").textContent);
    map.pm.setLang("zh");
    map.pm.setGlobalOptions({snappable: true, snapDistance: 15});
    S.marks = L.featureGroup().addTo(map);
    S.issues = L.featureGroup().addTo(map);
    var canvas = L.canvas({padding: 0.3});
    var select = $("community");
    select.innerHTML = S.communities.map(function (c) {
      return "<option value=\"" + c.id + "\">" + esc(c.name) + "（" + esc(c.code) + "）</option>";
    }).join("");
    map.on("pm:drawstart", function (e) {
      if (S.mode !== "draw") { return; }
      e.workingLayer.on("pm:vertexadded", function () { showLive(countIn(e.workingLayer.getLatLngs())); });
    });
    map.on("pm:create", function (e) {
      if (S.mode === "split") {
        var line = e.layer.toGeoJSON().geometry;
        map.removeLayer(e.layer);
        var p = S.gridLayers[S.selected].feature.properties;
        return api("POST", "/api/grids/" + S.selected + "/split", {line: line, version: p.version}).then(function (res) {
          S.mode = null;
          if (!res.ok) { setButtons(); return refused(res); }
          finish(res, interpolate(gettext("已分割为 %(a)s（%(na)s 户）和 %(b)s（%(nb)s 户）"),
            {a: res.data[0].name, na: res.data[0].households, b: res.data[1].name, nb: res.data[1].households}, true));
        });
      }
      S.working = e.layer;
      S.mode = "draw-done";
      S.working.pm.enable({snappable: true, allowSelfIntersection: false});
      S.working.on("pm:markerdrag pm:edit", function () { showLive(countIn(S.working.getLatLngs())); });
      showLive(countIn(S.working.getLatLngs()));
      say(gettext("可拖动顶点调整，然后点击保存"), "");
      setButtons();
    });
    $("tool-draw").onclick = startDraw;
    $("tool-edit").onclick = startEdit;
    $("tool-split").onclick = startSplit;
    $("tool-merge").onclick = function () { merge(null); };
    $("tool-retire").onclick = retire;
    $("tool-save").onclick = save;
    $("tool-cancel").onclick = cancel;
    $("publish-button").onclick = publish;
    if (window.GridImport) {  // grid_import.js: the file import panel
      window.GridImport.bind(S, {$: $, say: say, refused: refused, finish: finish, csrf: csrf, esc: esc});
    }
    select.onchange = function () { S.selected = null; loadCommunity(Number(select.value)).then(fit); };
    Promise.all([
      fetch(root.dataset.communities, {credentials: "same-origin"}).then(function (r) { return r.json(); }),
      fetch(root.dataset.households, {credentials: "same-origin"}).then(function (r) { return r.json(); })
    ]).then(function (res) {
      S.outline = L.geoJSON(res[0], {style: {color: "#283593", weight: 3, fill: false, dashArray: "6 4"},
                                     pmIgnore: false, snapIgnore: false, interactive: false}).addTo(map);
      S.dots = L.layerGroup(res[1].features.map(function (f) {
        var c = f.geometry.coordinates;
        S.points.push(c);
        return L.circleMarker([c[1], c[0]], {renderer: canvas, radius: 2, weight: 0, fillColor: "#263238",
                                             fillOpacity: 0.7, interactive: false, pmIgnore: true, snapIgnore: true});
      })).addTo(map);
      return loadCommunity(S.communities[0].id);
    }).then(fit).catch(function (err) {
      $("map-status").textContent = gettext("地图数据加载失败") + "：" + err.message;
    });
  }

  function fit() {
    var layer = S.outline.getLayers().filter(function (l) { return l.feature.id === S.community.id; })[0];
    if (layer) { S.map.fitBounds(layer.getBounds(), {padding: [10, 10]}); }
  }

  window.GridEditor = {init: init, state: S};
})();
