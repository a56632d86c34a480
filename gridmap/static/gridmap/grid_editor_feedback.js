/* Grid editor feedback (grid_editor.js binds it): the household-band warnings the server answers after a
 * save, split or merge; retiring with the count of households it would leave outside every grid; the
 * discard button for a published grid's pending edit; grid names (placed without collisions by the street
 * map's GMLabels) and the map legend. */
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
      div.innerHTML = "<strong>" + esc(gettext("图例")) + "</strong><ul>" +
        swatch("border:2px solid #37474f", gettext("已发布")) +
        swatch("border:3px dashed #37474f", gettext("已修改待发布 / 待撤销")) +
        swatch("border:2px solid #6a1b9a", gettext("草稿")) +
        swatch("border:3px solid #1565c0", gettext("选中")) +
        swatch("background:#e69f00", interpolate(gettext("少于 %(min)s 户"), S.band, true)) +
        swatch("background:#009e73", interpolate(gettext("%(min)s–%(max)s 户"), S.band, true)) +
        swatch("background:#d55e00", interpolate(gettext("多于 %(max)s 户"), S.band, true)) +
        swatch("border:3px dashed #283593", gettext("社区边界")) +
        swatch("background:#263238;border-radius:50%", gettext("住户")) + "</ul>";
      L.DomEvent.disableClickPropagation(div);
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
  }

  window.GridEditorFeedback = {bind: bind, bandWarnings: bandWarnings, setButtons: setButtons, drawLabels: drawLabels};
})();
