/* "My tasks" on /my-grid/ (issue #17): the open concerns of the user's grids, due soonest first (the list's own
 * order), each a link to its page on /concerns/; the overdue marked. The five first; the rest one click away. */
(function () {
  "use strict";
  var box = document.getElementById("my-tasks");
  if (!box) { return; }
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate, SHOWN = 5;
  var list = box.querySelector(".task-list"), badge = box.querySelector("h2 .badge"), page = box.dataset.page;

  function item(r) {
    var due = r.due_at ? interpolate(gettext("时限 %(t)s"), {t: GM.when(r.due_at)}, true) : "";
    return "<li class=\"" + (r.overdue ? "overdue" : "") + "\"><a href=\"" + esc(page + "?concern=" + r.id) + "\"><b>" +
      esc(r.category) + "</b> · " + esc(r.overdue ? gettext("超期") + " · " + r.state_label : r.state_label) +
      "<span class=\"desc\">" + esc(r.description) + "</span><span class=\"meta\">" + esc(due) + "</span></a></li>";
  }

  GM.api(box.dataset.url, {quiet: true}).then(function (data) {
    var rows = data.concerns;
    badge.textContent = String(rows.length);
    badge.hidden = rows.length === 0;
    list.innerHTML = rows.slice(0, SHOWN).map(item).join("") ||
      "<li class=\"muted\">" + esc(gettext("没有待办的诉求")) + "</li>";
    if (rows.length > SHOWN) {
      list.insertAdjacentHTML("beforeend", "<li><a href=\"" + esc(page) + "\">" +
        esc(interpolate(gettext("全部 %(n)s 件"), {n: rows.length}, true)) + "</a></li>");
    }
    box.dataset.loaded = "true";
  }, function () { list.innerHTML = "<li class=\"muted\">" + esc(gettext("诉求暂时无法加载")) + "</li>"; });
})();
