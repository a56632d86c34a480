/* Grid editor feedback (grid_editor.js binds it): the household-band warnings the server answers after a
 * save, split or merge; publishing, which first asks the server which grids it would leave outside the band
 * and waits for the admin's confirmation; retiring with the count of households it would leave outside every
 * grid; the discard button for a published grid's pending edit; grid names (placed without collisions by the
 * street map's GMLabels) and the map legend (collapsed by default on a narrow screen). */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var S = null, H = null, labels = null, candidates = [];

  /* Every band_warning of a write's answer (one grid, or the two of a split) in #band-warning, visibly. */
  function bandWarnings(result) {
    var box = H.$("band-warning");
    var warnings = [].concat(result || []).map(function (r) { return r && r.band_warning; }).filter(Boolean);
    box.innerHTML = warnings.map(function (w) { return "<p>⚠ " + esc(w) + "</p>"; }).join("");
    box.hidden = !warnings.length;
  }

  /* Publish: first the server's preview (the publish's own refusals: gaps, overlaps, a stale ETag; nothing
   * written). The grids it would leave outside the band (the band rule of split and merge, on the server) are
   * listed in #publish-check and outlined on the map; only "publish anyway" publishes. */
  function publishCall(preview) {
    return GM.api(GM.url("community-publish", S.community.id), {method: "POST", ifMatch: S.community.etag,
      body: {reason: H.$("publish-reason").value, override_reason: H.$("override-reason").value || null, preview: preview}});
  }

  function publishRefused(err) {
    closeCheck();
    H.refused(err);
    if (err && err.report) { H.drawTopology(err.report); }
  }

  function publish() {
    closeCheck();
    publishCall(true).then(function (check) {
      return check.band_warnings.length ? showCheck(check.band_warnings) : publishNow();
    }, publishRefused);
  }

  function publishNow() {
    closeCheck();
    return publishCall(false).then(function (res) {
      return H.finish(res, interpolate(gettext("已发布 %(n)s 个网格，%(k)s 户重新归属"), {n: res.published, k: res.rehomed}, true));
    }, publishRefused);
  }

  function showCheck(warnings) {
    var box = H.$("publish-check");
    S.marks.clearLayers();
    box.innerHTML = "<p><strong>" + esc(interpolate(GM.ngettext(
      "%(n)s 个网格发布后将超出目标范围 %(min)s–%(max)s 户：", "%(n)s 个网格发布后将超出目标范围 %(min)s–%(max)s 户：",
      warnings.length), {n: warnings.length, min: warnings[0].band.min, max: warnings[0].band.max}, true)) +
      "</strong></p><ul>" + warnings.map(function (w) {
        var row = w.band_side === "under" ? gettext("%(name)s（%(code)s）：%(n)s 户，少于下限 %(min)s 户")
          : gettext("%(name)s（%(code)s）：%(n)s 户，多于上限 %(max)s 户");
        var layer = S.gridLayers[w.id];
        if (layer) {
          L.polygon(layer.getLatLngs(), {color: "#d55e00", weight: 4, dashArray: "2 6", fill: false, interactive: false,
                                         pmIgnore: true, snapIgnore: true, className: "band-check-area"}).addTo(S.marks);
        }
        return "<li data-code=\"" + esc(w.code) + "\" data-side=\"" + esc(w.band_side) + "\">" + esc(interpolate(row,
          {name: w.name, code: w.code, n: w.households, min: w.band.min, max: w.band.max}, true)) + "</li>";
      }).join("") + "</ul><p>" + esc(gettext("仍要发布吗？")) + "</p><div class=\"check-actions\">" +
      "<button type=\"button\" id=\"publish-confirm\" class=\"primary\">" + esc(gettext("仍然发布")) + "</button>" +
      "<button type=\"button\" id=\"publish-back\">" + esc(gettext("返回修改")) + "</button></div>";
    box.hidden = false;
    H.$("publish-confirm").onclick = publishNow;
    H.$("publish-back").onclick = function () { closeCheck(); S.marks.clearLayers(); };
    box.scrollIntoView({block: "nearest"});
  }

  function closeCheck() {
    var box = H.$("publish-check");
    box.hidden = true;
    box.innerHTML = "";
  }

  /* Retire the selected grid: first ask the server how many households it would leave in a gap. */
  function retire() {
    var id = S.selected, p = S.gridLayers[id].feature.properties;
    H.post("grid-retire", id, {version: p.version, preview: true}, [id]).then(function (preview) {
      var question = preview.gap_households
        ? interpolate(GM.ngettext("退役后将有 %(n)s 户不在任何网格中，确定吗？", "退役后将有 %(n)s 户不在任何网格中，确定吗？",
                                  preview.gap_households), {n: preview.gap_households}, true)
        : gettext("确定撤销此网格？已发布的网格在发布后撤销，代码不再使用。");
      if (!window.confirm(question)) { return null; }
      return H.post("grid-retire", id, {version: p.version}, [id]).then(function (res) {
        S.selected = null;
        return H.finish(res, res.gap_households
          ? interpolate(gettext("已撤销，%(n)s 户不在任何网格中"), {n: res.gap_households}, true) : gettext("已撤销"));
      });
    }).catch(H.refused);
  }

  function canDiscard() {
    var layer = S.selected && S.gridLayers[S.selected], p = layer && layer.feature.properties;
    return Boolean(p && p.status !== "draft" && (p.pending || p.retire_on_publish));
  }

  function discard() {
    var id = S.selected, p = S.gridLayers[id].feature.properties;
    if (!window.confirm(interpolate(gettext("放弃 %(name)s 未发布的修改，恢复为已发布的边界？"), {name: p.name}, true))) { return; }
    H.post("grid-discard", id, {version: p.version}, [id])
      .then(function (res) { return H.finish(res, gettext("已放弃未发布的修改")); }, H.refused);
  }

  function setButtons() {
    var button = H.$("tool-discard");
    button.hidden = !canDiscard();
    button.disabled = Boolean(S.mode);
  }

  /* Grid names: one label per grid at its bounds' centre, thinned after every zoom and pan (GMLabels). */
  function drawLabels(fc) {
    closeCheck();  // a reload: a publish check was about the grids before it
    labels.clearLayers();
    candidates = fc.features.map(function (f) {
      var box = window.GMLabels.box(f.properties.name, f.properties.code);
      var centre = S.gridLayers[f.id].getBounds().getCenter();
      return {latlng: centre, w: box.w, h: box.h, households: f.properties.households,
              marker: L.marker(centre, {icon: L.divIcon({className: "grid-label", iconSize: [box.w, box.h],
                iconAnchor: [box.w / 2, box.h / 2],
                html: esc(f.properties.name) + "<br><small>" + esc(f.properties.code) + "</small>"}),
                interactive: false, keyboard: false, pmIgnore: true, snapIgnore: true})};
    });
    candidates.sort(function (a, b) { return b.households - a.households; });
    place();
  }

  function place() { window.GMLabels.place(S.map, labels, candidates, []); }

  function swatch(style, text) {
    return "<li><span class=\"legend-swatch\" style=\"" + style + "\"></span>" + esc(text) + "</li>";
  }

  function addLegend(map) {
    var legend = L.control({position: "bottomright"});
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "editor-legend");
      div.id = "editor-legend";
      // A <details> box as on the street map: open on a desktop, folded on a phone so the map stays visible.
      div.innerHTML = "<details><summary>" + esc(gettext("图例")) + "</summary><ul id=\"editor-legend-items\">" +
        swatch("border:2px solid #37474f", gettext("已发布")) +
        swatch("border:3px dashed #37474f", gettext("已修改待发布 / 待撤销")) +
        swatch("border:2px solid #6a1b9a", gettext("草稿")) +
        swatch("border:3px solid #1565c0", gettext("选中")) +
        swatch("background:#e69f00", interpolate(gettext("少于 %(min)s 户"), S.band, true)) +
        swatch("background:#009e73", interpolate(gettext("%(min)s–%(max)s 户"), S.band, true)) +
        swatch("background:#d55e00", interpolate(gettext("多于 %(max)s 户"), S.band, true)) +
        swatch("border:3px dashed #283593", gettext("社区边界")) +
        swatch("background:#263238;border-radius:50%", gettext("住户")) + "</ul></details>";
      var details = div.querySelector("details"), narrow = window.matchMedia("(max-width: 700px)");
      details.open = !narrow.matches;
      narrow.addEventListener("change", function (e) { details.open = !e.matches; });  // folded again on a phone
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    legend.addTo(map);
  }

  /* helpers: {$, post, finish, refused} from grid_editor.js. */
  function bind(state, helpers) {
    S = state;
    H = helpers;
    labels = L.layerGroup().addTo(S.map);
    S.map.on("zoomend moveend", place);
    addLegend(S.map);
    H.$("tool-discard").onclick = discard;
    H.$("tool-retire").onclick = retire;
    H.$("publish-button").onclick = publish;
  }

  window.GridEditorFeedback = {bind: bind, bandWarnings: bandWarnings, setButtons: setButtons, drawLabels: drawLabels};
})();
