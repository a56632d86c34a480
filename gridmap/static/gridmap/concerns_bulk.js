/* Many concerns at once on the board (issue #17): a manager ticks the concerns that may be accepted or dispatched
 * without a note and takes the step for all of them. Each goes through the one transition endpoint with its own
 * If-Match, one after the other, so rights, scope and the concurrency rule are those of a single step; a concern
 * someone else changed meanwhile is left as it is and counted. */
(function () {
  "use strict";
  var gettext = GM.gettext, interpolate = GM.interpolate;

  function $(id) { return document.getElementById(id); }
  function picks() { return Array.prototype.slice.call(document.querySelectorAll("#concern-list input.pick")); }

  function refreshBar() {
    var all = picks(), chosen = all.filter(function (p) { return p.checked; });
    $("bulk-bar").hidden = all.length === 0;
    $("bulk-all").checked = all.length > 0 && chosen.length === all.length;
    document.querySelectorAll("#bulk-bar [data-bulk]").forEach(function (b) {
      var ready = chosen.filter(function (p) { return mayTake(Number(p.value), b.dataset.bulk); });
      b.disabled = ready.length === 0;
      if (!b.dataset.label) { b.dataset.label = b.textContent; }
      b.textContent = b.dataset.label + (ready.length ? " (" + ready.length + ")" : "");
    });
  }

  function mayTake(id, action) {
    var row = window.GridConcerns.rows()[id];
    return !!row && row.actions.some(function (a) { return a.action === action && !a.note; });
  }

  function take(action) {
    var rows = window.GridConcerns.rows();
    var ids = picks().filter(function (p) { return p.checked; }).map(function (p) { return Number(p.value); })
      .filter(function (id) { return mayTake(id, action); });
    var body = action === "dispatch" ? {handler_level: $("bulk-level").value} : {};
    var done = 0, left = 0;
    document.querySelectorAll("#bulk-bar button").forEach(function (b) { b.disabled = true; });
    var chain = Promise.resolve();
    ids.forEach(function (id) {
      chain = chain.then(function () {
        var step = Object.assign({action: action}, body);
        return GM.api(GM.url("concern-transition", id), {method: "POST", body: step, ifMatch: rows[id].etag, quiet: true})
          .then(function () { done += 1; }, function () { left += 1; });
      });
    });
    return chain.then(function () {
      var text = left ? interpolate(gettext("已处理 %(done)s 件；%(left)s 件未处理（已被他人更新或状态已变）"),
                                    {done: done, left: left}, true)
                      : interpolate(gettext("已处理 %(done)s 件"), {done: done}, true);
      // The board first shows the concerns as they are now, then says what was done: a tick made after the
      // message is not wiped by the reload (a user, or a test, may tick the next step at once).
      var tell = function () { window.GridConcerns.say(text, left ? "error" : "ok"); };
      return Promise.resolve(window.GridConcerns.load()).then(tell, tell);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!$("bulk-bar")) { return; }
    $("concern-list").addEventListener("change", function (e) { if (e.target.classList.contains("pick")) { refreshBar(); } });
    $("bulk-all").addEventListener("change", function () {
      picks().forEach(function (p) { p.checked = $("bulk-all").checked; });
      refreshBar();
    });
    document.querySelectorAll("#bulk-bar [data-bulk]").forEach(function (b) {
      b.addEventListener("click", function () { take(b.dataset.bulk); });
    });
    document.addEventListener("concerns:loaded", refreshBar);
  });
})();
