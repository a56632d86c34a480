/* Page chrome shared by every page: the language menu submits itself (no inline handlers: CSP). */
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  /* The menu button of narrow screens (app.css folds the menu behind it): opens and closes the menu panel;
     Escape or a click outside closes it. */
  var bar = document.querySelector(".topbar"), toggle = bar && bar.querySelector(".menu-toggle");
  if (!toggle) { return; }
  function setOpen(open) {
    bar.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  toggle.addEventListener("click", function () { setOpen(!bar.classList.contains("open")); });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { setOpen(false); } });
  document.addEventListener("click", function (e) { if (!bar.contains(e.target)) { setOpen(false); } });
})();
/* The concerns bell (base.html, for those who work on residents' concerns): the open concerns that want someone
   (new, due soon, overdue, escalated) on the badge, each count in the tooltip; refreshed every minute. A click
   opens the concerns page, on the overdue tab when any is overdue. */
(function () {
  "use strict";
  var bell = document.querySelector(".bell[data-counts]");
  if (!bell || !window.fetch) { return; }
  var badge = bell.querySelector(".badge"), page = bell.getAttribute("href");
  function show(counts) {
    badge.textContent = counts.attention > 99 ? "99+" : String(counts.attention);
    badge.hidden = !counts.attention;
    bell.classList.toggle("late", counts.overdue > 0);
    var text = bell.dataset.summary.replace(/%\((\w+)\)s/g, function (all, key) { return String(counts[key]); });
    bell.title = text;
    bell.setAttribute("aria-label", text);
    bell.setAttribute("href", page + (counts.overdue ? "?state=overdue" : ""));
  }
  function refresh() {
    fetch(bell.dataset.counts, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (counts) { if (counts) { show(counts); } })
      .catch(function () { /* offline or signed out: the bell keeps its last figures */ });
  }
  refresh();
  window.setInterval(refresh, 60000);
})();
