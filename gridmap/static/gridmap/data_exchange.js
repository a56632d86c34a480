/* Data exchange page: preview an import (dry run), then import it. The server decides everything
 * (POST to the layer-import URL); the page lists each row's action or its error (row, field, reason).
 * A large file runs as a job: the answer is 202 with the job's status URL, polled here (progress bar) until
 * its result is there; the import of a clean preview commits the job's stored file (If-Match: its ETag). */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var STAGES = {start: gettext("开始"), read: gettext("读取文件"), check: gettext("逐行校验"), write: gettext("写入"),
                done: gettext("完成")};
  var state = {job: null, timer: null};
  function $(id) { return document.getElementById(id); }
  function say(text, kind) { var m = $("import-msg"); m.textContent = text; m.className = "msg " + (kind || ""); }

  function bar(percent) {
    var el = $("import-progress");
    if (!el) {
      el = document.createElement("progress");
      el.id = "import-progress";
      el.max = 100;
      $("import-msg").parentNode.insertBefore(el, $("import-msg"));
    }
    el.hidden = percent === null;
    el.value = percent || 0;
  }

  function send(dryRun) {
    var file = $("import-file").files[0];
    if (!file) { return say(gettext("请先选择文件"), "error"); }
    clearTimeout(state.timer);
    if (!dryRun && state.job && state.job.status === "previewed") {  // the file of the preview shown
      say(gettext("正在导入…"));
      return GM.api(state.job.url + "/commit", {method: "POST", ifMatch: state.job.etag, quiet: true})
        .then(function (d) { answer(true, d); }, function (d) { answer(false, d); });
    }
    var form = new FormData();
    form.append("file", file);
    form.append("dry_run", dryRun ? "1" : "0");
    form.append("source_crs", $("import-crs-text").value.trim() || $("import-crs").value);
    form.append("encoding", $("import-encoding").value);
    say(gettext("正在处理……"));
    state.job = null;
    // quiet: a refused file answers with its rows and errors, listed below; other refusals go to GM.showRefusal.
    GM.api(GM.url("layer-import", $("import-layer").value), {method: "POST", body: form, quiet: true})
      .then(function (d) { answer(true, d); }, function (d) { answer(false, d); });
  }

  /* An upload's or commit's answer: the result (done in the request), or a job still running (202), polled. */
  function answer(ok, d) {
    if (d && d.job) { state.job = d.job; }
    if (d && d.job && !d.rows && (d.status === "queued" || d.status === "running")) { return poll(d.job.url); }
    bar(null);
    if (d && d.job && d.status === "failed") { return say(gettext("导入失败，数据库未作任何改动"), "error"); }
    show(ok, d);
  }

  function poll(url) {
    GM.api(url, {quiet: true}).then(function (job) {
      state.job = {id: job.id, status: job.status, etag: job.etag, url: url};
      if (job.status === "queued" || job.status === "running") {
        bar(job.progress);
        say(interpolate(gettext("处理中：%(stage)s（%(p)s%）"), {stage: STAGES[job.stage] || job.stage || "…", p: job.progress}, true));
        state.timer = setTimeout(function () { poll(url); }, 1000);
        return;
      }
      bar(null);
      if (!job.result) { return say(gettext("导入失败，数据库未作任何改动"), "error"); }
      show(job.http_status < 400, job.result);
    }, function (err) { bar(null); say(GM.refusalText(err), "error"); });
  }

  function show(ok, d) {
    var body = $("import-rows").querySelector("tbody");
    if (!d || !d.rows) {
      $("import-rows").hidden = true;
      $("import-run").disabled = true;
      GM.showRefusal(d);
      return say(GM.refusalText(d), "error");
    }
    var lines = d.rows.map(function (row) {
      return "<tr><td>" + esc(row.row) + "</td><td>" + esc(row.code || row.name || "") + " " + esc(row.name || "") +
        "</td><td>" + esc(row.action === "update" ? gettext("更新") : gettext("新建")) + "</td></tr>";
    }).concat(d.errors.map(function (e) {
      return "<tr class=\"error\"><td>" + esc(e.row) + "</td><td>" + esc(e.field) + "</td><td>" + esc(e.detail) + "</td></tr>";
    })).concat((d.gaps || []).map(function (g) {  // warnings: the areas leave part of their parent uncovered
      return "<tr class=\"warning\"><td>" + esc(g.parent) + "</td><td>" + esc(gettext("空隙")) + "</td><td>" +
        esc(interpolate(gettext("%(a)s m² 未被覆盖，位置 %(lon)s, %(lat)s"), {a: g.area_m2, lon: g.location[0], lat: g.location[1]}, true)) +
        "</td></tr>";
    }));
    body.innerHTML = lines.join("");
    $("import-rows").hidden = false;
    if (d.error_count) {
      $("import-run").disabled = true;
      return say(interpolate(gettext("%(n)s 处错误，未导入任何数据"), {n: d.error_count}, true), "error");
    }
    if (!d.dry_run) {
      $("import-run").disabled = true;
      return say(interpolate(gettext("已导入：新建 %(c)s，更新 %(u)s"), {c: d.created, u: d.updated}, true), "ok");
    }
    $("import-run").disabled = !ok;
    say(interpolate(gettext("预览无误（%(n)s 行），可以导入"), {n: d.rows.length}, true), "ok");
  }

  if ($("import-form")) {
    $("import-preview").onclick = function () { send(true); };
    $("import-run").onclick = function () { send(false); };
    $("import-file").onchange = function () { $("import-run").disabled = true; state.job = null; };
  }
})();
