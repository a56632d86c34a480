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
