/* Data exchange page: preview an import (dry run), then import it; and replace a reference layer. The server
 * decides everything (POST to the layer-import or reference-import URL); the page lists each row's action or its
 * error (row, field, reason). A large file runs as a job: the answer is 202 with the job's status URL, polled
 * here (progress bar) until its result is there; the import of a clean preview commits the job's stored file
 * (If-Match: its ETag). Both forms share the coordinate system fields and one Panel (message, bar, job). */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var STAGES = {start: gettext("开始"), read: gettext("读取文件"), check: gettext("逐行校验"), write: gettext("写入"),
                done: gettext("完成")};
  var FIELDS = {geometry: gettext("几何"), name: gettext("名称")};
  function $(id) { return document.getElementById(id); }

  /* One import form's message line, progress bar and job, its elements named "<prefix>-…"; show(ok, body) draws
   * the import's result (or refusal); ended() runs after every answer, whatever it was. */
  function Panel(prefix, show, ended) {
    this.prefix = prefix;
    this.show = show;
    this.ended = ended || function () {};
    this.job = null;
    this.timer = null;
  }
  Panel.prototype.el = function (name) { return $(this.prefix + "-" + name); };
  Panel.prototype.say = function (text, kind) {
    var m = this.el("msg");
    m.textContent = text;
    m.className = "msg " + (kind || "");
  };
  Panel.prototype.bar = function (percent) {
    var el = this.el("progress");
    if (!el) {
      el = document.createElement("progress");
      el.id = this.prefix + "-progress";
      el.max = 100;
      this.el("msg").parentNode.insertBefore(el, this.el("msg"));
    }
    el.hidden = percent === null;
    el.value = percent || 0;
  };
  /* The file with the coordinate system and encoding fields of this form. */
  Panel.prototype.form = function (file) {
    var form = new FormData();
    form.append("file", file);
    form.append("source_crs", this.el("crs-text").value.trim() || this.el("crs").value);
    form.append("encoding", this.el("encoding").value);
    return form;
  };
  Panel.prototype.send = function (url, opts) {
    var self = this;
    clearTimeout(this.timer);
    opts.quiet = true;  // a refused file answers with its rows and errors, listed below
    GM.api(url, opts).then(function (d) { self.answer(true, d); }, function (d) { self.answer(false, d); });
  };
  /* An upload's or commit's answer: the result (done in the request), or a job still running (202), polled. */
  Panel.prototype.answer = function (ok, d) {
    if (d && d.job) { this.job = d.job; }
    if (d && d.job && !d.rows && (d.status === "queued" || d.status === "running")) { return this.poll(d.job.url); }
    this.bar(null);
    if (d && d.job && d.status === "failed") {
      this.say(gettext("导入失败，数据库未作任何改动"), "error");
    } else {
      this.show(ok, d);
    }
    this.ended();
  };
  Panel.prototype.poll = function (url) {
    var self = this;
    GM.api(url, {quiet: true}).then(function (job) {
      self.job = {id: job.id, status: job.status, etag: job.etag, url: url};
      if (job.status === "queued" || job.status === "running") {
        self.bar(job.progress);
        self.say(interpolate(gettext("处理中：%(stage)s（%(p)s%）"),
                             {stage: STAGES[job.stage] || job.stage || "…", p: job.progress}, true));
        self.timer = setTimeout(function () { self.poll(url); }, 1000);
        return;
      }
      self.bar(null);
      if (!job.result) {
        self.say(gettext("导入失败，数据库未作任何改动"), "error");
      } else {
        self.show(job.http_status < 400, job.result);
      }
      self.ended();
    }, function (err) { self.bar(null); self.say(GM.refusalText(err), "error"); self.ended(); });
  };

  /* Streets, communities, stations: a preview, then the import. */
  var layers = new Panel("import", showRows);

  function send(dryRun) {
    var file = $("import-file").files[0];
    if (!file) { return layers.say(gettext("请先选择文件"), "error"); }
    if (!dryRun && layers.job && layers.job.status === "previewed") {  // the file of the preview shown
      layers.say(gettext("正在导入…"));
      return layers.send(layers.job.url + "/commit", {method: "POST", ifMatch: layers.job.etag});
    }
    var form = layers.form(file);
    form.append("dry_run", dryRun ? "1" : "0");
    layers.say(gettext("正在处理……"));
    layers.job = null;
    layers.send(GM.url("layer-import", $("import-layer").value), {method: "POST", body: form});
  }

  function showRows(ok, d) {
    var body = $("import-rows").querySelector("tbody");
    if (!d || !d.rows) {
      $("import-rows").hidden = true;
      $("import-run").disabled = true;
      GM.showRefusal(d);
      return layers.say(GM.refusalText(d), "error");
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
      return layers.say(interpolate(gettext("%(n)s 处错误，未导入任何数据"), {n: d.error_count}, true), "error");
    }
    if (!d.dry_run) {
      $("import-run").disabled = true;
      return layers.say(interpolate(gettext("已导入：新建 %(c)s，更新 %(u)s"), {c: d.created, u: d.updated}, true), "ok");
    }
    $("import-run").disabled = !ok;
    layers.say(interpolate(gettext("预览无误（%(n)s 行），可以导入"), {n: d.rows.length}, true), "ok");
  }

  /* Reference layers: one step, the street's layer of that kind replaced by the file's features. */
  var reference = new Panel("reference", showReference, function () { $("reference-run").disabled = false; });

  function sendReference() {
    var file = $("reference-file").files[0];
    if (!file) { return reference.say(gettext("请先选择文件"), "error"); }
    var form = reference.form(file);
    form.append("kind", $("reference-kind").value);
    form.append("street", $("reference-street").value);
    $("reference-errors").hidden = true;
    $("reference-run").disabled = true;
    reference.say(gettext("正在处理……"));
    reference.job = null;
    reference.send(GM.url("reference-import"), {method: "POST", body: form});
  }

  function showReference(ok, d) {
    var table = $("reference-errors");
    if (!ok || !d || d.features === undefined) {
      if (d && d.errors && d.errors.length) {  // every refused row: its number, the field and the reason
        table.querySelector("tbody").innerHTML = d.errors.map(function (e) {
          return "<tr class=\"error\"><td>" + esc(e.row) + "</td><td>" + esc(FIELDS[e.field] || e.field) + "</td><td>" +
            esc(e.detail) + "</td></tr>";
        }).join("");
        table.hidden = false;
        return reference.say(interpolate(gettext("%(n)s 行被拒绝，未导入任何要素"), {n: d.error_count}, true), "error");
      }
      return reference.say(GM.refusalText(d), "error");
    }
    var text = d.replaced ?
      interpolate(gettext("已导入 %(n)s 个要素（替换原有 %(r)s 个）"), {n: d.features, r: d.replaced}, true) :
      interpolate(gettext("已导入 %(n)s 个要素"), {n: d.features}, true);
    if (d.outside) {
      text += " " + interpolate(gettext("另有 %(n)s 个要素不在该街道内，未导入"), {n: d.outside}, true);
    }
    reference.say(text, "ok");
    listed(d);
  }

  /* The imported layer's line in the list of reference layers: its count and time, added when new. */
  function listed(d) {
    var key = d.kind + ":" + (d.street === null ? "" : d.street);
    var body = $("reference-layers").querySelector("tbody");
    var row = body.querySelector("tr[data-layer=\"" + key + "\"]");
    if (!row) {
      var empty = body.querySelector("tr.empty");
      if (empty) { empty.remove(); }
      var street = $("reference-street").querySelector("option[value=\"" + (d.street === null ? "" : d.street) + "\"]");
      var kind = $("reference-kind").querySelector("option[value=\"" + d.kind + "\"]");
      row = document.createElement("tr");
      row.dataset.layer = key;
      row.innerHTML = "<td>" + esc(street ? street.textContent : "") + "</td><td>" + esc(kind ? kind.textContent : d.kind) +
        "</td><td class=\"count\"></td><td class=\"when\"></td>";
      body.appendChild(row);
    }
    row.querySelector(".count").textContent = d.features;
    row.querySelector(".when").textContent = (d.imported_at || "").slice(0, 16).replace("T", " ");  // the server's local time
  }

  if ($("import-form")) {
    $("import-preview").onclick = function () { send(true); };
    $("import-run").onclick = function () { send(false); };
    $("import-file").onchange = function () { $("import-run").disabled = true; layers.job = null; };
  }
  if ($("reference-form")) {
    $("reference-run").onclick = sendReference;
  }
})();
