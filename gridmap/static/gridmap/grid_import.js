/* Grid editor, file import panel: upload a GeoJSON / GeoPackage / zipped Shapefile / KML, preview every row
 * on the map (green: would be created, red: refused with its reason), then import all rows as drafts.
 * The server decides (POST to community-grid-import); nothing is created from a preview. A large file runs as
 * a job: the answer is 202 with the job's status URL, polled here (progress bar) until its result is there;
 * importing a clean preview commits the job's stored file (If-Match: its ETag). */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var STAGES = {start: gettext("开始"), read: gettext("读取文件"), check: gettext("逐行校验"), write: gettext("写入"),
                done: gettext("完成")};
  var S = null, H = null, job = null, timer = null;

  function bar(percent) {
    var el = H.$("import-progress");
    if (!el) {
      el = document.createElement("progress");
      el.id = "import-progress";
      el.max = 100;
      H.$("import-list").parentNode.insertBefore(el, H.$("import-list"));
    }
    el.hidden = percent === null;
    el.value = percent || 0;
  }

  function importFile(dryRun) {
    var $ = H.$, say = H.say;
    var file = $("import-file").files[0];
    if (!file) { return say(gettext("请先选择文件"), "error"); }
    clearTimeout(timer);
    var sent;
    if (!dryRun && job && job.status === "previewed") {  // the file of the preview shown
      sent = GM.api(job.url + "/commit", {method: "POST", ifMatch: job.etag, quiet: true});
    } else {
      var form = new FormData();
      form.append("file", file);
      form.append("dry_run", dryRun ? "1" : "0");
      form.append("source_crs", $("import-crs").value);
      job = null;
      // quiet: a refused file answers with its rows (each with its reason), drawn below; other refusals via refused().
      sent = GM.api(GM.url("community-grid-import", S.community.id), {method: "POST", body: form, quiet: true});
    }
    say(gettext("正在处理……"), "");
    sent.then(function (d) { return {ok: true, data: d}; }, function (d) { return {ok: false, data: d}; }).then(settle);
  }

  /* An upload's or commit's answer: the result (done in the request), or a job still running (202), polled. */
  function settle(res) {
    var d = res.data;
    if (d && d.job) { job = d.job; }
    if (d && d.job && !d.rows && (d.status === "queued" || d.status === "running")) { return poll(d.job.url); }
    bar(null);
    if (d && d.job && d.status === "failed") {
      H.$("import-run").disabled = true;
      return H.say(gettext("导入失败，数据库未作任何改动"), "error");
    }
    show(res);
  }

  function poll(url) {
    GM.api(url, {quiet: true}).then(function (s) {
      job = {id: s.id, status: s.status, etag: s.etag, url: url};
      if (s.status === "queued" || s.status === "running") {
        bar(s.progress);
        H.say(interpolate(gettext("处理中：%(stage)s（%(p)s%）"), {stage: STAGES[s.stage] || s.stage || "…", p: s.progress}, true), "");
        timer = setTimeout(function () { poll(url); }, 1000);
        return;
      }
      bar(null);
      if (!s.result) { H.$("import-run").disabled = true; return H.say(gettext("导入失败，数据库未作任何改动"), "error"); }
      settle({ok: s.http_status < 400, data: s.result});
    }, function (err) { bar(null); GM.showRefusal(err); H.refused(err); });
  }

  function show(res) {
    var $ = H.$, say = H.say, refused = H.refused, finish = H.finish;
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
    var capped = d.shapes_capped ? " " + gettext("（地图上只画出前 50 个形状）") : "";  // a large file: a sample
    say((d.errors.length ? interpolate(gettext("%(n)s 行有错误，未导入任何网格"), {n: d.errors.length}, true)
                         : gettext("预览无误，可以导入")) + capped, d.errors.length ? "error" : "ok");
  }

  window.GridImport = {bind: function (state, helpers) {
    S = state;
    H = helpers;
    H.$("import-preview").onclick = function () { importFile(true); };
    H.$("import-run").onclick = function () { importFile(false); };
    H.$("import-file").onchange = function () { job = null; H.$("import-run").disabled = true; };
  }};
})();
