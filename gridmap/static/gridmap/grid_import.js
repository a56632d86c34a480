/* Grid editor, file import panel: upload a GeoJSON / GeoPackage / zipped Shapefile / KML, preview every row
 * on the map (green: would be created, red: refused with its reason), then import all rows as drafts.
 * The server decides (POST to community-grid-import); nothing is created from a preview. */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var S = null, H = null;

  function importFile(dryRun) {
    var $ = H.$, say = H.say, refused = H.refused, finish = H.finish;
    var file = $("import-file").files[0];
    if (!file) { return say(gettext("请先选择文件"), "error"); }
    var form = new FormData();
    form.append("file", file);
    form.append("dry_run", dryRun ? "1" : "0");
    form.append("source_crs", $("import-crs").value);
    // quiet: a refused file answers with its rows (each with its reason), drawn below; other refusals via refused().
    GM.api(GM.url("community-grid-import", S.community.id), {method: "POST", body: form, quiet: true})
      .then(function (d) { return {ok: true, data: d}; }, function (d) { return {ok: false, data: d}; })
      .then(function (res) {
        var d = res.data;
        S.marks.clearLayers();
        if (!d.rows) { $("import-run").disabled = true; GM.showRefusal(d); return refused(d); }
        d.rows.forEach(function (row) {
          if (!row.geometry) { return; }
          L.geoJSON(row.geometry, {style: {color: row.error ? "#c62828" : "#2e7d32", weight: 2, fillOpacity: 0.25,
                                           className: row.error ? "import-bad" : "import-ok"}}).addTo(S.marks);
        });
        $("import-list").innerHTML = d.rows.map(function (row) {
          return "<li" + (row.error ? " class=\"error\"" : "") + ">" + esc(interpolate(gettext("第 %(n)s 行"), {n: row.row}, true)) +
            " " + esc(row.name || "") + "：" + (row.error ? esc(row.error) :
            esc(interpolate(gettext("%(n)s 户"), {n: row.households}, true))) + "</li>";
        }).join("");
        $("import-run").disabled = !res.ok || !d.dry_run || d.errors.length > 0;
        if (d.created) { $("import-run").disabled = true; return finish(res, interpolate(gettext("已导入 %(n)s 个草稿网格"), {n: d.created.length}, true)); }
        say(d.errors.length ? interpolate(gettext("%(n)s 行有错误，未导入任何网格"), {n: d.errors.length}, true)
                            : gettext("预览无误，可以导入"), d.errors.length ? "error" : "ok");
      });
  }

  window.GridImport = {bind: function (state, helpers) {
    S = state;
    H = helpers;
    H.$("import-preview").onclick = function () { importFile(true); };
    H.$("import-run").onclick = function () { importFile(false); };
  }};
})();
