/* Data exchange page: preview an import (dry run), then import it. The server decides everything
 * (POST to the layer-import URL); the page lists each row's action or its error (row, field, reason). */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  function $(id) { return document.getElementById(id); }
  function say(text, kind) { var m = $("import-msg"); m.textContent = text; m.className = "msg " + (kind || ""); }

  function send(dryRun) {
    var file = $("import-file").files[0];
    if (!file) { return say(gettext("请先选择文件"), "error"); }
    var form = new FormData();
    form.append("file", file);
    form.append("dry_run", dryRun ? "1" : "0");
    form.append("source_crs", $("import-crs-text").value.trim() || $("import-crs").value);
    form.append("encoding", $("import-encoding").value);
    say(gettext("正在处理……"));
    // quiet: a refused file answers with its rows and errors, listed below; other refusals go to GM.showRefusal.
    GM.api(GM.url("layer-import", $("import-layer").value), {method: "POST", body: form, quiet: true})
      .then(function (d) { show(true, d); }, function (d) { show(false, d); });
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
    $("import-file").onchange = function () { $("import-run").disabled = true; };
  }
})();
