/* Merging duplicates (合并重复, issue #17) on a concern's detail, for the staff who may (the server says so:
 * may_merge, may_keep). "合并重复" lists the open concerns of its category within 250 m (GET …/duplicates) and takes
 * a concern's number for one further away; each candidate has both ways: "merge this one into that one" and "merge
 * that one into this one". After a confirmation one POST to the transition endpoint (action "merge", into: the one
 * kept, If-Match: the one merged, which ends void); then the detail and the list are read again. */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var M = {concern: null, candidates: {}};

  function $(id) { return document.getElementById(id); }
  function panel() { return document.querySelector("#concern-merge .merge-panel"); }

  function tell(text, kind) {
    var msg = document.querySelector("#concern-merge .merge-msg");
    msg.textContent = text;
    msg.className = "merge-msg " + (kind || "");
  }

  function render(c) {
    var box = $("concern-merge");
    M.concern = c;
    M.candidates = {};
    if (!box || !(c.may_merge || c.may_keep)) { return; }
    box.innerHTML = "<button type=\"button\" data-merge=\"open\" aria-expanded=\"false\">" + esc(gettext("合并重复")) +
      "</button><div class=\"merge-panel\" hidden><p class=\"muted\">" +
      esc(gettext("附近 250 米内同类的在办诉求；其他诉求请输入编号查找。")) + "</p><ul class=\"merge-candidates\"></ul>" +
      "<form class=\"merge-number\"><label>" + esc(gettext("诉求编号")) + " <input name=\"number\" inputmode=\"numeric\" " +
      "pattern=\"[0-9]*\" maxlength=\"10\" required></label><button type=\"submit\">" + esc(gettext("查找")) + "</button></form>" +
      "<div class=\"merge-confirm\" hidden></div><p class=\"merge-msg\" role=\"status\"></p></div>";
  }

  /* A candidate with its two buttons, each offered only when the server's rules allow it (the merged one open, the
   * kept one neither void, rejected nor merged itself). */
  function candidateHtml(o) {
    var c = M.concern, away = c.may_merge && o.may_keep, here = o.may_merge && c.may_keep;
    var where = o.distance_m !== undefined ? interpolate(gettext("%(m)s 米"), {m: o.distance_m}, true) : "";
    return "<li data-candidate=\"" + esc(o.id) + "\"><div><b>#" + esc(o.id) + " · " + esc(o.category) + "</b> <small>" +
      esc([o.state_label, where].filter(Boolean).join(" · ")) + "</small></div><p class=\"desc\">" + esc(o.description) +
      "</p><div class=\"merge-buttons\">" +
      (away ? "<button type=\"button\" data-merge=\"away\" data-other=\"" + esc(o.id) + "\">" +
        esc(interpolate(gettext("将本诉求合并到 #%(id)s"), {id: o.id}, true)) + "</button>" : "") +
      (here ? "<button type=\"button\" data-merge=\"here\" data-other=\"" + esc(o.id) + "\">" +
        esc(interpolate(gettext("将 #%(id)s 合并到本诉求"), {id: o.id}, true)) + "</button>" : "") +
      (away || here ? "" : "<small class=\"muted\">" + esc(gettext("不能与本诉求合并")) + "</small>") + "</div></li>";
  }

  function list(rows) {
    rows.forEach(function (o) { M.candidates[o.id] = o; });
    var ul = panel().querySelector(".merge-candidates");
    ul.innerHTML = rows.map(candidateHtml).join("") ||
      "<li class=\"muted\">" + esc(gettext("附近没有同类的在办诉求")) + "</li>";
  }

  function open() {
    var p = panel(), c = M.concern;
    p.hidden = !p.hidden;
    document.querySelector("#concern-merge [data-merge=open]").setAttribute("aria-expanded", String(!p.hidden));
    if (p.hidden) { return; }
    tell("");
    GM.api(GM.url("concern-duplicates", c.id), {quiet: true}).then(function (data) {
      if (M.concern !== c) { return; }  // another concern opened meanwhile
      list(data.concerns.map(function (o) { return Object.assign({may_merge: true, may_keep: true}, o); }));
      p.dataset.loaded = "true";
    }, function (err) { tell(GM.refusalText(err), "error"); });
  }

  /* A concern typed by its number: its detail (its own may_merge, may_keep), shown as the one candidate. */
  function lookUp(e) {
    e.preventDefault();
    var c = M.concern, n = e.target.number.value.trim();
    if (!/^[0-9]+$/.test(n) || Number(n) <= 0) { tell(gettext("请输入诉求编号（数字）"), "error"); return; }
    if (Number(n) === c.id) { tell(gettext("不能合并到诉求自身"), "error"); return; }
    GM.api(GM.url("concern", Number(n)), {quiet: true}).then(function (o) {
      if (M.concern !== c) { return; }
      tell("");
      list([o]);
    }, function (err) {
      tell(err && err.http === 404 ? gettext("没有这个编号的诉求，或不在您的范围内") : GM.refusalText(err), "error");
    });
  }

  /* The question before the merge: which one ends void, which one is kept. */
  function ask(button) {
    var c = M.concern, other = M.candidates[Number(button.dataset.other)];
    var merged = button.dataset.merge === "away" ? c : other, kept = merged === c ? other : c;
    var box = panel().querySelector(".merge-confirm");
    box.hidden = false;
    box.innerHTML = "<p><b>" + esc(interpolate(gettext("将 #%(merged)s 合并到 #%(kept)s？"), {merged: merged.id, kept: kept.id}, true)) +
      "</b><br>" + esc(interpolate(gettext("#%(merged)s 将作废，并链接到保留的 #%(kept)s；此操作不能撤销。"),
        {merged: merged.id, kept: kept.id}, true)) + "</p><label>" + esc(gettext("说明（可选）")) +
      " <input name=\"note\" maxlength=\"500\"></label><p class=\"merge-buttons\"><button type=\"button\" class=\"primary\" " +
      "data-merge=\"confirm\">" + esc(gettext("确认合并")) + "</button> <button type=\"button\" data-merge=\"cancel\">" +
      esc(gettext("取消")) + "</button></p>";
    box.dataset.merged = merged.id;
    box.dataset.kept = kept.id;
    box.dataset.etag = merged.etag;
    box.scrollIntoView({block: "nearest"});
  }

  function confirm() {
    var box = panel().querySelector(".merge-confirm"), c = M.concern;
    var merged = Number(box.dataset.merged), kept = Number(box.dataset.kept);
    box.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    GM.api(GM.url("concern-transition", merged), {method: "POST", quiet: true, ifMatch: box.dataset.etag,
      body: {action: "merge", into: kept, note: box.querySelector("[name=note]").value}})
      .then(function () {
        var text = interpolate(gettext("已将 #%(merged)s 合并到 #%(kept)s"), {merged: merged, kept: kept}, true);
        return Promise.all([window.GridConcerns.load(), window.GridConcerns.show(c.id)]).then(function () {
          window.GridConcerns.say(text, "ok");
        });
      }, function (err) {
        if (err && err.http === 412) {  // one of the two changed since it was read: both read again, then say so
          var say = function () { window.GridConcerns.say(GM.refusalText(err), "error"); };
          return Promise.all([window.GridConcerns.load(), window.GridConcerns.show(c.id)]).then(say, say);
        }
        box.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
        tell(GM.refusalText(err), "error");
      });
  }

  document.addEventListener("concerns:shown", function (e) { render(e.detail); });
  document.addEventListener("DOMContentLoaded", function () {
    var detail = $("concern-detail");
    if (!detail) { return; }
    detail.addEventListener("click", function (e) {
      var act = e.target.dataset.merge;
      if (act === "open") { open(); }
      if (act === "away" || act === "here") { ask(e.target); }
      if (act === "confirm") { confirm(); }
      if (act === "cancel") { panel().querySelector(".merge-confirm").hidden = true; }
    });
    detail.addEventListener("submit", function (e) { if (e.target.classList.contains("merge-number")) { lookUp(e); } });
  });
})();
