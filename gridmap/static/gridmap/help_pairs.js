/* Help pairs (帮扶对子) on the grid leader's household card: the current pairs, ending one, and a form
 * pairing the household with a member (searched by name or 拼音首字母) or a unit. Uses the existing
 * endpoints household-help-pairs and help-pair-end (URLs by name from the page). No inline handlers (CSP). */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext;
  var timer = null, seq = 0;

  function today() { return new Date().toISOString().slice(0, 10); }

  function pairsHtml(card, canPair) {
    var items = card.help_pairs.map(function (p) {
      return "<li data-pair=\"" + esc(p.id) + "\"><span>" + esc(p.member || p.unit) +
        (p.member && p.unit ? "（" + esc(p.unit) + "）" : "") + " <span class=\"muted\">" +
        esc(p.start_date) + " " + gettext("起") + "</span></span>" + (canPair ? "<button type=\"button\" data-act=\"end-pair\" data-pair=\"" +
        esc(p.id) + "\" data-etag=\"" + esc(p.etag) + "\">" + gettext("结束") + "</button>" : "") + "</li>";
    }).join("");
    var out = "<h3>" + gettext("帮扶对子") + "</h3><ul class=\"help-pairs\">" +
      (items || "<li class=\"muted\">" + gettext("暂无帮扶对子") + "</li>") + "</ul>";
    if (!canPair) { return out; }
    return out + "<form class=\"pair-form\">" +
      "<label>" + gettext("帮扶人（姓名或拼音首字母）") + "<input class=\"pair-search\" type=\"search\" maxlength=\"50\" " +
      "autocomplete=\"off\"></label><select name=\"member\" aria-label=\"" + gettext("帮扶人") + "\"><option value=\"\">" +
      gettext("（不选人员）") + "</option></select>" +
      "<label>" + gettext("或帮扶单位") + "<input name=\"unit\" maxlength=\"100\"></label>" +
      "<label>" + gettext("开始日期") + "<input name=\"start_date\" type=\"date\" required value=\"" + esc(today()) + "\"></label>" +
      "<button type=\"submit\">" + gettext("建立帮扶对子") + "</button></form>";
  }

  function loadMembers(form, q) {
    var select = form.querySelector("select[name=member]"), mine = ++seq;
    GM.api(GM.url("members") + "?q=" + encodeURIComponent(q || "")).then(function (data) {
      if (mine !== seq) { return; }
      select.innerHTML = "<option value=\"\">" + gettext("（不选人员）") + "</option>" + data.results.map(function (m) {
        return "<option value=\"" + esc(m.id) + "\">" + esc(m.name) + (m.employer ? " · " + esc(m.employer) : "") + "</option>";
      }).join("");
      if (q && data.results.length) { select.selectedIndex = 1; }
      form.dataset.loaded = q || "-";
    });
  }

  function afterRender(cardEl) {
    var form = cardEl.querySelector(".pair-form");
    if (form) { loadMembers(form, ""); }
  }

  /* Listeners on the card container (its content is replaced on every open); reopen(id) redraws it. */
  function bind(cardEl, reopen, refusedOn) {
    cardEl.addEventListener("input", function (e) {
      if (!e.target.classList.contains("pair-search")) { return; }
      var form = e.target.form, q = e.target.value.trim();
      clearTimeout(timer);
      timer = setTimeout(function () { loadMembers(form, q); }, 250);
    });
    cardEl.addEventListener("submit", function (e) {
      var form = e.target, id = Number(cardEl.dataset.id);
      if (!form.classList.contains("pair-form")) { return; }
      e.preventDefault();
      var body = {start_date: form.start_date.value};
      if (form.member.value) { body.member = Number(form.member.value); }
      if (form.unit.value.trim()) { body.unit = form.unit.value.trim(); }
      GM.api(GM.url("household-help-pairs", id), {method: "POST", body: body, ifMatch: cardEl.dataset.etag})
        .then(function () { reopen(id); }, refusedOn(id));
    });
    cardEl.addEventListener("click", function (e) {
      if (e.target.dataset.act !== "end-pair") { return; }
      var id = Number(cardEl.dataset.id);
      GM.api(GM.url("help-pair-end", e.target.dataset.pair), {method: "POST", body: {end_date: today()},
                                                             ifMatch: e.target.dataset.etag})
        .then(function () { reopen(id); }, refusedOn(id));
    });
  }

  window.GridHelpPairs = {pairsHtml: pairsHtml, afterRender: afterRender, bind: bind};
})();
