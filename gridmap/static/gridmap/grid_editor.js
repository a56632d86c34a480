/* Grid editor: Leaflet-Geoman on a django-leaflet map. Draw, reshape (snapping to neighbours and the
 * community boundary), split with a line, merge two grids, retire, publish, topology and history.
 * Every write goes to the grid API (URLs by name, core.js) with the grid's If-Match; the server's validator decides, this page only shows its answer.
 * Household counts while drawing are computed here from the loaded dots, so they follow the mouse. */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var S = {map: null, community: null, grids: null, gridLayers: {}, selected: null, mergeWith: null,
           mode: null, working: null, points: [], band: null, outline: null, marks: null, dots: null};

  function $(id) { return document.getElementById(id); }

  /* A write on the grid API: POST the body with the If-Match of the grids it changes (a list for a merge).
   * args: the URL's ids (none, one, or an array). */
  function post(name, args, body, grids) {
    var tags = (grids || []).map(function (g) { return GM.etagOf(S.gridLayers[g].feature.properties); });
    return GM.api(GM.url.apply(null, [name].concat(args === null ? [] : args)),
                  {method: "POST", body: body, ifMatch: tags.filter(Boolean).join(", ") || undefined});
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
  function refreshLive() {  // after every operation: the selected grid's count, or nothing without a selection
    var layer = S.selected && S.gridLayers[S.selected];
    if (layer) { showLive(layer.feature.properties.households); } else { $("live-count").textContent = ""; }
  }
  function showLive(n) {
    var ok = n >= S.band.min && n <= S.band.max;
    var box = $("live-count"), strong = document.createElement("strong");
    var parts = interpolate(gettext("当前图形内 %(n)s 户，目标 %(min)s–%(max)s 户"),
                            {n: "\u0001", min: S.band.min, max: S.band.max}, true).split("\u0001");
    strong.id = "live-n";
    strong.textContent = n;
    box.textContent = parts[0];
    box.appendChild(strong);
    box.appendChild(document.createTextNode(parts[1] || ""));
    if (!ok) {
      var warn = document.createElement("span");
      warn.className = "warn";
      warn.textContent = gettext("超出目标范围");
      box.appendChild(document.createTextNode(" "));
      box.appendChild(warn);
    }
  }

  function geometryOf(layer) { return layer.toGeoJSON().geometry; }

  function setButtons() {
    var sel = S.selected, idle = !S.mode;
    $("tool-draw").disabled = !idle;
    ["tool-edit", "tool-split", "tool-retire"].forEach(function (id) { $(id).disabled = !idle || !sel; });
    $("tool-merge").disabled = !idle || !sel;
    $("tool-save").disabled = !(S.mode === "draw-done" || S.mode === "edit");
    $("tool-cancel").disabled = idle;
    GridEditorFeedback.setButtons();
  }

  function loadCommunity(id) {
    S.community = S.communities.filter(function (c) { return c.id === id; })[0];
    $("publish").hidden = !S.community.publish;
    return Promise.all([GM.api(GM.url("editor-grids", id)), GM.api(GM.url("community-topology", id))]).then(function (res) {
      S.community.etag = res[0].etag;  // the If-Match of publishing (the community's grid layer)
      drawGrids(res[0]);
      drawTopology(res[1]);
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
      return "<li data-id=\"" + esc(f.id) + "\" data-code=\"" + esc(p.code) + "\"><span class=\"swatch\" style=\"--c:" +
        esc(bandColour(p.households)) + "\"></span><strong>" + esc(p.name) + "</strong> <small>" + esc(p.code) +
        "</small><br><span class=\"hh\">" + esc(interpolate(gettext("%(n)s 户"), {n: p.households}, true)) +
        "</span> · " + esc(status) + " · v" + esc(p.version) + "</li>";
    }).join("");
    Array.prototype.forEach.call(list.children, function (li) {
      li.addEventListener("click", function (e) { pick(Number(li.dataset.id), e.shiftKey); });
    });
    if (S.selected && !S.gridLayers[S.selected]) { S.selected = null; }
    GridEditorFeedback.drawLabels(fc);
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
    return loadCommunity(S.community.id).then(function () {
      refreshLive();
      GridEditorFeedback.bandWarnings(result);
      say(okText, "ok");
    });
  }

  /* After GM.api showed the refusal in #editor-message: where it is on the map; 412 (the grid changed
   * meanwhile) reads the community again, so the next try starts from the current version. */
  function refused(d) {
    d = d || {};
    S.marks.clearLayers();
    if (d.geometry) { L.geoJSON(d.geometry, {style: {color: "#c62828", weight: 2, fillOpacity: 0.6, className: "overlap-area"}}).addTo(S.marks); }
    if (d.location) { L.circleMarker([d.location[1], d.location[0]], {radius: 8, color: "#c62828"}).addTo(S.marks); }
    if (d.code === "precondition_failed" && d.current) {  // show theirs beside ours; ours stays editable
      L.geoJSON(d.current.geometry, {style: {color: "#ff6f00", weight: 2, dashArray: "2 4", fill: false}}).addTo(S.marks);
    }
    if (d.http === 412 && S.community && !S.mode) { loadCommunity(S.community.id); }
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
      ? post("grid-boundary", S.selected,
             {geometry: geometry, version: S.gridLayers[S.selected].feature.properties.version, clip: clip}, [S.selected])
      : post("grid-create", null, {community: S.community.id, geometry: geometry, clip: clip});
    req.then(function (grid) {
      if (S.working && S.working.pm) { S.working.pm.disable(); }
      S.selected = grid.id;
      finish(grid, interpolate(gettext("已保存 %(name)s（%(n)s 户），发布后生效"), {name: grid.name, n: grid.households}, true));
    }, refused);
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
    post("grid-merge", null, {grids: [S.selected, other], versions: versions}, [S.selected, other]).then(function (grid) {
      S.mode = null;
      S.selected = grid.id;
      finish(grid, interpolate(gettext("已合并为 %(name)s（%(n)s 户）"), {name: grid.name, n: grid.households}, true));
    }, function (err) { S.mode = null; S.mergeWith = null; setButtons(); refused(err); });
  }

  function cancel() {
    S.map.pm.disableDraw();
    if (S.working) { S.working.pm && S.working.pm.disable(); S.map.removeLayer(S.working); S.working = null; }
    S.mode = null;
    S.mergeWith = null;
    S.marks.clearLayers();
    say("", "");
    loadCommunity(S.community.id).then(refreshLive);
  }

  function drawTopology(r) {
    S.issues.clearLayers();
    if (!r || !r.gaps) { return; }
    $("topology-summary").innerHTML = esc(interpolate(
      gettext("覆盖率 %(pct)s%，%(gaps)s%(slivers)s，%(overlaps)s"), {pct: r.coverage_pct,
        gaps: interpolate(GM.ngettext("缝隙 %(n)s 处", "缝隙 %(n)s 处", r.gaps.length), {n: r.gaps.length}, true),
        slivers: interpolate(GM.ngettext("（细缝 %(n)s）", "（细缝 %(n)s）", r.slivers), {n: r.slivers}, true),
        overlaps: interpolate(GM.ngettext("重叠 %(n)s 处", "重叠 %(n)s 处", r.overlaps.length), {n: r.overlaps.length}, true)},
      true)) + (r.gap_households && r.gap_households.count ? "<br><span class=\"warn\">" + esc(interpolate(
        GM.ngettext("%(n)s 户在缝隙中，不属于任何网格", "%(n)s 户在缝隙中，不属于任何网格", r.gap_households.count),
        {n: r.gap_households.count}, true)) + "</span>" : "");
    var items = [];
    r.gaps.forEach(function (g, i) {
      L.geoJSON(g.geometry, {style: {color: "#ef6c00", weight: 1, dashArray: "3 3", fillColor: "#ffb74d", fillOpacity: 0.55, className: "gap-area"}}).addTo(S.issues);
      items.push("<li>" + esc(interpolate(gettext("缝隙 %(a)s 平方米"), {a: g.area_m2}, true)) +
        (g.sliver ? " <button type=\"button\" class=\"fix\" data-i=\"" + esc(i) + "\">" + gettext("并入相邻网格") + "</button>" : "") + "</li>");
    });
    r.overlaps.forEach(function (o) {
      L.geoJSON(o.geometry, {style: {color: "#6a1b9a", weight: 1, fillColor: "#6a1b9a", fillOpacity: 0.5}}).addTo(S.issues);
      items.push("<li>" + esc(interpolate(gettext("重叠 %(a)s 平方米：%(g)s"), {a: o.area_m2, g: o.grids.join(" / ")}, true)) +
                 "</li>");
    });
    (r.gap_households ? r.gap_households.rows : []).forEach(function (h) {
      L.circleMarker([h.lat, h.lon], {radius: 5, color: "#c62828", fillOpacity: 1}).bindTooltip(esc(h.address)).addTo(S.issues);
    });
    $("topology-list").innerHTML = items.join("");
    Array.prototype.forEach.call(document.querySelectorAll("#topology-list .fix"), function (b) {
      b.addEventListener("click", function () {
        post("community-fix-sliver", S.community.id, {point: r.gaps[b.dataset.i].label})
          .then(function (res) { return finish(res, gettext("细缝已并入相邻网格")); }, refused);
      });
    });
  }

  function loadHistory(id) {
    GM.api(GM.url("grid-history", id), {quiet: true}).then(function (data) {
      $("history").hidden = false;
      $("history-list").innerHTML = data.versions.map(function (v) {
        return "<li>v" + esc(v.number) + " · " + esc(v.created_by || "—") + " · " + esc(v.created_at.slice(0, 16).replace("T", " ")) +
          (v.reason ? " · " + esc(v.reason) : "") + " <button type=\"button\" data-n=\"" + esc(v.number) + "\" class=\"diff\">" +
          gettext("对比") + "</button> <button type=\"button\" data-n=\"" + esc(v.number) + "\" class=\"restore\">" + gettext("恢复") + "</button></li>";
      }).join("") || "<li>" + gettext("尚无发布记录") + "</li>";
      Array.prototype.forEach.call(document.querySelectorAll("#history-list .diff"), function (b) {
        b.addEventListener("click", function () { showDiff(id, b.dataset.n); });
      });
      Array.prototype.forEach.call(document.querySelectorAll("#history-list .restore"), function (b) {
        b.addEventListener("click", function () {
          post("grid-restore", [id, b.dataset.n], {version: S.gridLayers[id].feature.properties.version}, [id])
            .then(function (res) { return finish(res, gettext("已恢复为草稿，发布后生效")); }, refused);
        });
      });
    }, function () { $("history").hidden = true; });
  }

  function showDiff(id, n) {
    GM.api(GM.url("grid-diff", id, n)).then(function (d) {
      S.marks.clearLayers();
      if (d.old) { L.geoJSON(d.old.geometry, {style: {color: "#757575", weight: 2, dashArray: "4 4", fill: false}}).addTo(S.marks); }
      L.geoJSON(d.new.geometry, {style: {color: "#1565c0", weight: 3, fill: false}}).addTo(S.marks);
      $("diff").innerHTML = "<p>" + esc(interpolate(gettext("v%(n)s 与上一版相比，%(k)s 户改变了网格"),
                                                    {n: n, k: d.households.length}, true)) +
        "</p><ul>" + d.households.map(function (h) {
          return "<li>" + esc(h.address) + " " + esc(h.head_name) + " · " + (h.change === "joined" ? gettext("划入") : gettext("划出")) + "</li>";
        }).join("") + "</ul>";
    }, refused);
  }

  function init(map) {
    S.map = map;
    var root = $("editor-root");
    S.band = {min: Number(root.dataset.bandMin), max: Number(root.dataset.bandMax)};
    S.communities = JSON.parse($("editor-communities").textContent);
    map.pm.setLang(document.documentElement.lang.indexOf("zh") === 0 ? "zh" : "en");  // the UI's language
    map.pm.setGlobalOptions({snappable: true, snapDistance: 15});
    S.marks = L.featureGroup().addTo(map);
    S.issues = L.featureGroup().addTo(map);
    // grid_editor_feedback.js: band warnings, retire, discard, publish (with its band check), names, legend
    GridEditorFeedback.bind(S, {$: $, post: post, finish: finish, refused: refused, drawTopology: drawTopology});
    var canvas = L.canvas({padding: 0.3});
    var select = $("community");
    select.innerHTML = S.communities.map(function (c) {
      return "<option value=\"" + esc(c.id) + "\">" +
        esc(interpolate(gettext("%(name)s（%(code)s）"), {name: c.name, code: c.code}, true)) + "</option>";
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
        return post("grid-split", S.selected, {line: line, version: p.version}, [S.selected]).then(function (parts) {
          S.mode = null;
          finish(parts, interpolate(gettext("已分割为 %(a)s（%(na)s 户）和 %(b)s（%(nb)s 户）"),
            {a: parts[0].name, na: parts[0].households, b: parts[1].name, nb: parts[1].households}, true));
        }, function (err) { S.mode = null; setButtons(); refused(err); });
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
    $("tool-save").onclick = save;
    $("tool-cancel").onclick = cancel;
    if (window.GridImport) {  // grid_import.js: the file import panel
      window.GridImport.bind(S, {$: $, say: say, refused: refused, finish: finish});
    }
    select.onchange = function () { S.selected = null; loadCommunity(Number(select.value)).then(fit); };
    Promise.all([GM.api(GM.url("layer-communities")), GM.api(GM.url("layer-households"))]).then(function (res) {
      S.outline = L.geoJSON(res[0], {style: {color: "#283593", weight: 3, fill: false, dashArray: "6 4"},
                                     pmIgnore: false, snapIgnore: false, interactive: false}).addTo(map);
      S.dots = L.layerGroup(res[1].features.map(function (f) {
        var c = f.geometry.coordinates;
        S.points.push(c);
        return L.circleMarker([c[1], c[0]], {renderer: canvas, radius: 2, weight: 0, fillColor: "#263238",
                                             fillOpacity: 0.7, interactive: false, pmIgnore: true, snapIgnore: true});
      })).addTo(map);
      // ?community=ID&grid=ID (the work list's links): that community, that grid selected and in view.
      var params = new URLSearchParams(window.location.search), wanted = Number(params.get("community"));
      var start = S.communities.some(function (c) { return c.id === wanted; }) ? wanted : S.communities[0].id;
      select.value = String(start);
      return loadCommunity(start).then(function () {
        var grid = Number(params.get("grid"));
        if (grid && S.gridLayers[grid]) {
          pick(grid);  // (inside init, "select" is the community menu)
          S.map.fitBounds(S.gridLayers[grid].getBounds(), {padding: [40, 40]});
          return null;
        }
        return fit();
      });
    }).catch(function (err) {
      $("map-status").textContent = gettext("地图数据加载失败") + "：" + (err.message || GM.refusalText(err));
    });
  }

  function fit() {
    var layer = S.outline.getLayers().filter(function (l) { return l.feature.id === S.community.id; })[0];
    if (layer) { S.map.fitBounds(layer.getBounds(), {padding: [10, 10]}); }
  }

  window.GridEditor = {init: init, state: S};
})();
