/* Household import: upload → dry-run preview (counts, errors by row/column/reason, points on the map)
 * → commit. Large files run in a worker process: the page polls the job's status for its progress.
 * No inline handlers (CSP); strings through Django's JavaScript catalogue. */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var root = document.getElementById("import-root");
  var state = {map: null, layer: null, job: null, timer: null};
  var STAGES = {start: gettext("开始"), read: gettext("读取文件"), validate: gettext("逐行校验"),
                check: gettext("数据库核对"), write: gettext("写入住户"), done: gettext("完成")};

  function setMsg(text, ok) {
    var el = document.getElementById("import-msg");
    el.textContent = text;
    el.className = "msg " + (ok ? "ok" : "error");
  }

  function showPoints(points) {
    if (!state.map) { return; }
    if (state.layer) { state.map.removeLayer(state.layer); }
    var renderer = L.canvas();
    state.layer = L.layerGroup(points.map(function (p) {
      return L.circleMarker([p[1], p[0]], {radius: 3, weight: 0, fillOpacity: 0.7, color: "#1565c0", renderer: renderer});
    })).addTo(state.map);
    if (points.length) {
      state.map.fitBounds(L.latLngBounds(points.map(function (p) { return [p[1], p[0]]; })), {padding: [10, 10]});
    }
  }

  function showJob(job) {
    state.etag = job.etag;  // the commit names the preview it confirms (If-Match)
    var bar = document.getElementById("import-progress");
    bar.hidden = false;
    bar.value = job.progress;
    var counts = document.getElementById("import-counts");
    var table = document.getElementById("import-errors");
    var commitButton = document.getElementById("import-commit");
    commitButton.hidden = !(job.status === "previewed" && job.error_count === 0);
    if (job.status === "queued" || job.status === "running") {
      setMsg(interpolate(gettext("处理中：%(stage)s（%(p)s%）"), {stage: STAGES[job.stage] || job.stage || "…", p: job.progress}, true), true);
      return false;
    }
    var c = job.counts || {};
    counts.hidden = !("rows" in c);
    counts.innerHTML = "<dt>" + gettext("文件行数") + "</dt><dd>" + esc(c.rows) + "</dd>" +
      "<dt>" + gettext("新增") + "</dt><dd>" + esc(c["new"]) + "</dd>" +
      "<dt>" + gettext("更新（外部编号已存在）") + "</dt><dd>" + esc(c.updated) + "</dd>" +
      "<dt>" + gettext("落入网格") + "</dt><dd>" + esc(c.in_grid) + "</dd>" +
      "<dt>" + gettext("不在任何网格") + "</dt><dd>" + esc(c.without_grid) + "</dd>" +
      (job.imported_before ? "<dt>" + gettext("注意") + "</dt><dd>" + esc(interpolate(gettext("同一文件已于 %(t)s 导入过"), {t: job.imported_before}, true)) + "</dd>" : "");
    table.hidden = !job.errors.length;
    table.querySelector("tbody").innerHTML = job.errors.map(function (e) {
      return "<tr><td>" + esc(e.row) + "</td><td>" + esc(e.column || "—") + "</td><td>" + esc(e.reason) + "</td></tr>";
    }).join("");
    if (job.status === "previewed") { setMsg(gettext("预检通过：确认后导入"), true); }
    else if (job.status === "done") { setMsg(interpolate(gettext("已导入：新增 %(n)s 户，更新 %(u)s 户"), {n: c["new"], u: c.updated}, true), true); }
    else if (job.status === "refused") { setMsg(interpolate(gettext("文件有 %(n)s 处错误，未导入任何行"), {n: job.error_count}, true), false); }
    else { setMsg(gettext("导入失败，数据库未作任何改动"), false); }
    if (job.points && job.points.length) { showPoints(job.points); }
    return true;
  }

  function poll(id) {
    clearTimeout(state.timer);
    GM.api(GM.url("household-import-status", id)).then(function (job) {
      if (!showJob(job)) { state.timer = setTimeout(function () { poll(id); }, 1000); }
    }, function (err) { setMsg(GM.refusalText(err), false); });
  }

  /* Upload and commit answer with the job, refused files too (their errors by row); other refusals are shown. */
  function answer(data) {
    if (data && data.id) { state.job = data.id; if (!showJob(data)) { poll(data.id); } return; }
    GM.showRefusal(data);
    setMsg(GM.refusalText(data), false);
  }

  function onUpload(e) {
    e.preventDefault();
    var file = document.getElementById("import-file").files[0];
    if (!file) { setMsg(gettext("请选择 CSV 或 XLSX 文件"), false); return; }
    var data = new FormData();
    data.append("file", file);
    data.append("source_crs", document.getElementById("import-crs").value);
    setMsg(gettext("正在上传…"), true);
    GM.api(GM.url("household-import-upload"), {method: "POST", body: data, quiet: true}).then(answer, answer);
  }

  function onCommit() {
    if (!state.job) { return; }
    document.getElementById("import-commit").hidden = true;
    setMsg(gettext("正在导入…"), true);
    GM.api(GM.url("household-import-commit", state.job), {method: "POST", ifMatch: state.etag, quiet: true}).then(answer, answer);
  }

  // The published grids the user may see, outlined behind the preview points: where the file's rows
  // land, before anything is saved.
  function init(map) {
    state.map = map;
    if (!root) { return; }
    GM.api(GM.url("layer-grids"), {quiet: true}).then(function (grids) {
        if (!grids || !grids.features || !grids.features.length) { return; }
        var outlines = L.geoJSON(grids, {style: {color: "#b71c1c", weight: 1, fillOpacity: 0.04}, interactive: false})
          .addTo(map);
        outlines.bringToBack();
        if (!state.layer) { map.fitBounds(outlines.getBounds(), {animate: false}); }
      }, function () { /* the outlines are a backdrop: the import works without them */ });
  }

  window.HouseholdImport = {init: init};
  if (root) {
    document.getElementById("import-form").addEventListener("submit", onUpload);
    document.getElementById("import-commit").addEventListener("click", onCommit);
  }
})();
