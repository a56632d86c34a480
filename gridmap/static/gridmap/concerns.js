/* Residents' concerns: the user's concerns on a map and in a list (overdue first, then due soonest), a report
 * form (a point from the map or the phone's position), and for each concern the transitions the server says
 * this user may take (services/concerns/states.py), with a note where the step needs one. */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var S = {map: null, layer: null, tab: "open", rows: {}, point: null, pick: null};
  var BULK = ["accept", "dispatch"];  // the steps a manager may take for many concerns at once (concerns_bulk.js)

  function $(id) { return document.getElementById(id); }

  function say(text, kind) { var el = $("panel-msg"); el.textContent = text; el.className = kind || ""; }

  function due(r) {
    if (!r.due_at) { return ""; }
    return interpolate(gettext("时限 %(t)s"), {t: GM.when(r.due_at)}, true);
  }

  /* Why a concern is flagged (督办 by the sweep, 提级督办 to the street; api/concerns.py row), as a badge. */
  function flag(r) {
    return r.escalation ? " <span class=\"flag " + esc(r.escalation) + "\">" + esc(r.escalation_label) + "</span>" : "";
  }

  /* What a small wish's claim gave (认领人, service hours, beneficiaries) and the resident's rating (回访), each
   * "name: value" with the field's name from the server (api/concerns.py _facts). */
  function factsHtml(r) {
    return r.facts && r.facts.length ? "<p class=\"meta concern-facts\">" + esc(r.facts.map(function (f) {
      return interpolate(gettext("%(action)s：%(note)s"), {action: f.label, note: f.value}, true);
    }).join(" · ")) + "</p>" : "";
  }

  function item(r) {
    var actions = r.actions.map(function (a) {
      return "<button type=\"button\" data-act=\"" + esc(a.action) + "\" data-id=\"" + esc(r.id) + "\" data-note=\"" +
        (a.note ? "1" : "") + "\">" + esc(a.label) + "</button>";
    }).join("");
    var bulk = r.actions.some(function (a) { return BULK.indexOf(a.action) >= 0 && !a.note; });
    return "<li data-concern=\"" + esc(r.id) + "\" class=\"" + (r.overdue ? "overdue" : "") + "\"><div class=\"head\">" +
      (bulk ? "<input type=\"checkbox\" class=\"pick\" value=\"" + esc(r.id) + "\" aria-label=\"" + esc(gettext("选择")) + "\">" : "") + "<b>" +
      esc(r.category) + (r.urgency === "urgent" ? " · " + esc(gettext("紧急")) : "") + "</b><span class=\"state\">" +
      esc(r.overdue ? gettext("超期") + " · " + r.state_label : r.state_label) + "</span>" + flag(r) + "</div>" +
      "<p class=\"desc\">" + esc(r.description) + "</p><p class=\"meta\">" +
      (r.source === "qr_form" ? "<span class=\"source-public\">" + esc(r.source_label) + "</span> " : "") +
      esc([r.address, r.grid_name, due(r),
        r.rework ? interpolate(gettext("返工 %(n)s 次"), {n: r.rework}, true) : ""].filter(Boolean).join(" · ")) + "</p>" +
      factsHtml(r) +
      "<div class=\"concern-actions\"><button type=\"button\" data-show=\"" + esc(r.id) + "\">" + esc(gettext("详情")) +
      "</button>" + actions + "</div><div class=\"concern-step\" hidden></div></li>";
  }

  function load() {
    return GM.api(GM.url("concerns") + "?state=" + encodeURIComponent(S.tab)).then(function (data) {
      S.rows = {};
      data.concerns.forEach(function (r) { S.rows[r.id] = r; });
      [["open", data.counts.open], ["overdue", data.counts.overdue]].forEach(function (t) {  // counts on the tabs
        var tab = document.querySelector(".concern-tabs [data-state=" + t[0] + "]");
        if (!tab.dataset.label) { tab.dataset.label = tab.textContent; }
        tab.innerHTML = esc(tab.dataset.label) + (t[1] ? " <span class=\"badge\">" + esc(t[1]) + "</span>" : "");
      });
      $("concern-list").innerHTML = data.concerns.map(item).join("") ||
        "<li class=\"muted\">" + esc(gettext("没有诉求")) + "</li>";
      S.layer.clearLayers();
      data.concerns.forEach(function (r) {
        L.circleMarker([r.lat, r.lon], {radius: 7, weight: 2, color: r.overdue ? "#b71c1c" : "#1565c0",
          fillColor: r.overdue ? "#ef5350" : "#64b5f6", fillOpacity: 0.9, className: "concern-dot"})
          .bindTooltip(esc(r.category) + " · " + esc(r.state_label)).on("click", function () { focus(r.id); })
          .addTo(S.layer);
      });
      document.dispatchEvent(new CustomEvent("concerns:loaded"));
      $("concerns-root").dataset.loaded = "true";
      $("map-status").textContent = interpolate(gettext("%(n)s 件诉求"), {n: data.concerns.length}, true);
    });
  }

  function focus(id) {
    var li = document.querySelector("[data-concern=\"" + id + "\"]");
    if (li) { li.scrollIntoView({block: "nearest"}); li.classList.add("focus"); }
  }

  function show(id) {
    return GM.api(GM.url("concern", id)).then(function (c) {
      var box = $("concern-detail");
      box.hidden = false;
      box.dataset.id = c.id;
      box.innerHTML = "<h2>" + esc(c.category) + " · " + esc(c.state_label) + flag(c) + " <small class=\"concern-no\">#" +
        esc(c.id) + "</small></h2><p>" + esc(c.description) + "</p>" + factsHtml(c) + mergesHtml(c) + contactHtml(c) +
        "<div class=\"concern-photos\" id=\"concern-photos\"></div><div id=\"concern-merge\" class=\"concern-merge\"></div>" +
        "<ol class=\"concern-timeline\">" + c.events.map(function (e) {
          return "<li><b>" + esc(e.actor) + "</b> " + esc(GM.when(e.at)) + " · " + esc(e.note ?
            interpolate(gettext("%(action)s：%(note)s"), {action: e.action_label, note: e.note}, true) : e.action_label) + "</li>";
        }).join("") + "</ol>";
      box.scrollIntoView({block: "nearest"});
      document.dispatchEvent(new CustomEvent("concerns:shown", {detail: c}));  // concerns_merge.js
      return GM.api(GM.url("concern-photos", id), {quiet: true});
    }).then(function (data) {
      if (!data) { return; }
      $("concern-photos").innerHTML = data.photos.map(function (p) {
        return "<a href=\"" + esc(p.url) + "\" target=\"_blank\" rel=\"noopener\"><img src=\"" + esc(p.thumb) +
          "\" alt=\"" + esc(gettext("诉求照片")) + "\" width=\"96\"></a>";
      }).join("");
    });
  }

  /* The merges a concern is in (合并重复): the concern kept when this one was merged, those merged into this one;
   * each a link to its detail (a number only when it lies outside the user's scope). */
  function mergesHtml(c) {
    function link(m) {
      var text = "#" + m.id + (m.category ? " · " + m.category + " · " + m.state_label : "");
      return m.category ? "<button type=\"button\" class=\"link\" data-show=\"" + esc(m.id) + "\">" + esc(text) + "</button>" +
        (m.description ? " <small>" + esc(m.description) + "</small>" : "") : esc(text);
    }
    var html = c.merged_into ? "<p class=\"concern-merged-into\">" + esc(gettext("已合并到")) + " " + link(c.merged_into) + "</p>" : "";
    if (c.merged && c.merged.length) {
      html += "<div class=\"concern-merged\"><b>" + esc(gettext("已合并到本诉求的重复诉求")) + "</b><ul>" +
        c.merged.map(function (m) { return "<li>" + link(m) + "</li>"; }).join("") + "</ul></div>";
    }
    return html;
  }

  /* The phone a resident left with a public (QR) submission, masked; the full number only for a typed reason,
   * which the server records with the reveal (services/concerns/contact.py). Nothing when there is none. */
  function contactHtml(c) {
    if (!c.contact_phone) { return ""; }
    return "<div class=\"concern-contact\"><span>" + esc(gettext("联系电话")) + "</span> <b class=\"pii-phone\">" +
      esc(c.contact_phone) + "</b> <button type=\"button\" data-act=\"reveal-contact\">" + esc(gettext("查看完整电话")) +
      "</button><form class=\"reveal-form\" hidden><label>" + esc(gettext("查看原因（将记录在案）")) +
      " <input name=\"reason\" required minlength=\"2\" maxlength=\"500\"></label><button type=\"submit\" class=\"primary\">" +
      esc(gettext("确认查看")) + "</button></form><p class=\"contact-msg\" role=\"status\"></p></div>";
  }

  function revealContact(e) {
    var form = e.target, box = $("concern-detail"), msg = box.querySelector(".contact-msg"), id = box.dataset.id;
    e.preventDefault();
    GM.api(GM.url("concern-contact-reveal", id), {method: "POST", body: {reason: form.reason.value}, quiet: true})
      .then(function (data) {
        if (box.dataset.id !== id || !form.isConnected) { return; }  // another concern opened meanwhile
        box.querySelector(".pii-phone").innerHTML = "<a href=\"tel:" + esc(data.phone) + "\">" + esc(data.phone) + "</a>";
        form.hidden = true;
        box.querySelector("[data-act=reveal-contact]").hidden = true;
        msg.textContent = gettext("已显示完整电话，本次查看已记录");
        msg.className = "contact-msg ok";
      }, function (err) { msg.textContent = GM.refusalText(err); msg.className = "contact-msg error"; });
  }

  /* A step that needs more than a click (a note, a handler, a rating) opens a small form under its concern. */
  function step(button) {
    var id = Number(button.dataset.id), act = button.dataset.act, r = S.rows[id];
    var extra = act === "dispatch" ? "handler_level" : (act === "feedback" ? "feedback" : null);
    if (act === "claim") { return claimForm(button, id); }
    if (act === "handle" && r.is_wish) { return fulfilForm(button, id); }
    if (!button.dataset.note && !extra) { return send(id, act, {}); }
    var box = button.closest("li").querySelector(".concern-step");
    var options = document.getElementById("step-options").content;
    box.hidden = false;
    box.innerHTML = "";
    if (extra) { box.appendChild(options.querySelector("[name=" + extra + "]").cloneNode(true)); }
    var note = document.createElement("textarea");
    note.name = "note"; note.rows = 2; note.maxLength = 2000;
    note.placeholder = button.dataset.note ? gettext("说明（必填）") : gettext("说明");
    box.appendChild(note);
    if (act === "handle") { box.insertAdjacentHTML("beforeend", photoInput()); previewPhotos(box); }
    var ok = document.createElement("button");
    ok.type = "button"; ok.className = "primary"; ok.textContent = button.textContent;
    ok.addEventListener("click", function () {
      var body = {note: note.value}, photos = box.querySelector("[name=photo]");
      if (extra) { body[extra] = box.querySelector("[name=" + extra + "]").value; }
      send(id, act, body, photos && photos.files);
    });
    box.appendChild(ok);
    note.focus();
    return r;
  }

  /* A small wish or service project: who claims it (a member of the registry, searched by name or initials). */
  function claimForm(button, id) {
    var box = button.closest("li").querySelector(".concern-step");
    box.hidden = false;
    box.innerHTML = "<input type=\"search\" name=\"q\" placeholder=\"" + esc(gettext("党员或志愿者姓名、拼音首字母")) +
      "\"><select name=\"member\"></select><button type=\"button\" class=\"primary\">" + esc(button.textContent) + "</button>";
    var q = box.querySelector("[name=q]"), select = box.querySelector("[name=member]");
    function search() {
      GM.api(GM.url("members") + "?q=" + encodeURIComponent(q.value.trim()), {quiet: true}).then(function (data) {
        select.innerHTML = data.results.map(function (m) {
          return "<option value=\"" + esc(m.id) + "\">" + esc(m.name) + (m.is_party_member ? " · " + esc(gettext("党员")) : "") + "</option>";
        }).join("");
      });
    }
    q.addEventListener("input", search);
    search();
    box.querySelector("button").addEventListener("click", function () {
      if (select.value) { send(id, "claim", {member: Number(select.value)}); }
    });
  }

  /* Fulfilling a wish records the service hours and the beneficiaries with the note. */
  function fulfilForm(button, id) {
    var box = button.closest("li").querySelector(".concern-step");
    box.hidden = false;
    box.innerHTML = "<label>" + esc(gettext("服务时长（小时）")) + " <input type=\"number\" name=\"hours\" min=\"0.5\" step=\"0.5\"></label>" +
      "<label>" + esc(gettext("受益人数")) + " <input type=\"number\" name=\"people\" min=\"1\" step=\"1\"></label>" +
      "<textarea name=\"note\" rows=\"2\" placeholder=\"" + esc(gettext("说明（必填）")) + "\"></textarea>" + photoInput() +
      "<button type=\"button\" class=\"primary\">" + esc(button.textContent) + "</button>";
    previewPhotos(box);
    box.querySelector("button").addEventListener("click", function () {
      send(id, "handle", {note: box.querySelector("[name=note]").value,
                          service_hours: Number(box.querySelector("[name=hours]").value),
                          beneficiaries: Number(box.querySelector("[name=people]").value)}, box.querySelector("[name=photo]").files);
    });
  }

  /* The handler's photos of the result (处置照片), sent with the step as photos of its stage; those chosen are
   * shown under the field (previewPhotos). */
  function photoInput() {
    return "<label class=\"step-photos\">" + esc(gettext("诉求照片")) + " <input type=\"file\" name=\"photo\" " +
      "accept=\"image/jpeg,image/png,image/webp\" multiple></label><div class=\"concern-photos step-previews\"></div>";
  }

  function previewPhotos(box) {
    var input = box.querySelector("[name=photo]"), shown = box.querySelector(".step-previews");
    input.addEventListener("change", function () {
      Array.prototype.forEach.call(shown.querySelectorAll("img"), function (img) { URL.revokeObjectURL(img.src); });
      shown.innerHTML = "";
      Array.prototype.forEach.call(input.files, function (f) {
        var img = document.createElement("img");
        img.src = URL.createObjectURL(f); img.alt = gettext("诉求照片");
        shown.appendChild(img);
      });
    });
  }

  /* A step, then its photos (``files``, may be none) once it is taken: a refused photo never loses the step, and
   * the message says what was refused. */
  function send(id, act, body, files) {
    body.action = act;
    var state;
    return GM.api(GM.url("concern-transition", id), {method: "POST", body: body, ifMatch: S.rows[id].etag})
      .then(function (r) {
        state = r.state_label;
        if (!files || !files.length) { return null; }
        var data = new FormData();
        Array.prototype.forEach.call(files, function (f) { data.append("photo", f); });
        data.append("stage", act);
        return GM.api(GM.url("concern-photos", id), {method: "POST", body: data, quiet: true})
          .then(function () { return null; }, function (err) { return err; });
      })
      .then(function (refused) {
        say(interpolate(gettext("已更新：%(state)s"), {state: state}, true) + (refused ? " · " + GM.refusalText(refused) : ""),
          refused ? "error" : "ok");
        return load();
      }, function (err) { say(GM.refusalText(err), "error"); if (err && err.http === 412) { load(); } });
  }

  function showKpis() { return window.GridConcernKpis.toggle(S.map, S.layer); }  // the 统计 panel: concern_kpis.js

  /* Open concerns of the chosen category within 250 m of the picked point: "the same problem?" before a duplicate
   * is reported; a tap shows that concern instead. */
  function checkDuplicates() {
    var box = $("duplicates"), form = $("report-form");
    if (!S.point) { box.hidden = true; return; }
    var q = "?lon=" + S.point[0] + "&lat=" + S.point[1] + "&category=" + encodeURIComponent(form.elements.category.value);
    GM.api(GM.url("concerns-nearby") + q, {quiet: true}).then(function (data) {
      box.hidden = !data.concerns.length;
      box.innerHTML = "<b>" + esc(gettext("附近已有同类诉求，是同一个问题吗？")) + "</b><ul>" + data.concerns.map(function (c) {
        return "<li data-duplicate=\"" + esc(c.id) + "\"><button type=\"button\" class=\"link\" data-show=\"" + esc(c.id) + "\">#" +
          esc(c.id) + " " + esc(c.description) + "</button> <small>" + esc(interpolate(gettext("%(m)s 米 · %(state)s"), {m: c.distance_m, state: c.state_label}, true)) +
          "</small></li>";
      }).join("") + "</ul>";
    }, function () { box.hidden = true; });
  }

  function setPoint(latlng) {
    S.point = [latlng.lng, latlng.lat];
    if (S.pick) { S.map.removeLayer(S.pick); }
    S.pick = L.marker(latlng).addTo(S.map);
    $("report-point").textContent = interpolate(gettext("位置：%(lat)s, %(lon)s"),
      {lat: latlng.lat.toFixed(5), lon: latlng.lng.toFixed(5)}, true);
    checkDuplicates();
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function openReport() { $("report-form").hidden = false; say(gettext("在地图上点选位置"), ""); }

  /* A report for one household (its card's link on my-grid): the household's point and address, its id sent with
   * the report; the point can still be moved on the map. null: a report about no household. */
  function forHousehold(card) {
    var note = $("report-household");
    S.household = card ? card.id : null;
    note.hidden = !card;
    if (!card) { return; }
    note.textContent = interpolate(gettext("住户：%(a)s"), {a: card.address}, true);
    $("report-form").elements.address.value = card.address;
    setPoint(L.latLng(card.lat, card.lon));
    S.map.setView([card.lat, card.lon], 17);
  }

  function submitReport(e) {
    e.preventDefault();
    var form = $("report-form");
    if (!S.point) { say(gettext("请先在地图上点选位置"), "error"); return; }
    if (!form.dataset.uid) { form.dataset.uid = uuid(); }  // kept until it lands: a retry creates one concern
    var body = {uid: form.dataset.uid, location: {type: "Point", coordinates: S.point}};
    ["category", "urgency", "source", "description", "address"].forEach(function (k) { body[k] = form.elements[k].value; });
    if (S.household) { body.household = S.household; }
    GM.api(GM.url("concerns"), {method: "POST", body: body}).then(function (created) {
      var files = form.elements.photo.files;
      if (!files.length) { return created; }
      var data = new FormData();  // the photos after the concern exists: a refused photo never loses the report
      Array.prototype.forEach.call(files, function (f) { data.append("photo", f); });
      data.append("stage", "report");
      return GM.api(GM.url("concern-photos", created.id), {method: "POST", body: data});
    }).then(function () {
      form.reset(); delete form.dataset.uid; form.hidden = true; S.point = null; forHousehold(null);
      if (S.pick) { S.map.removeLayer(S.pick); S.pick = null; }
      say(gettext("已上报"), "ok");
      return load();
    }, function (err) { say(GM.refusalText(err), "error"); });
  }

  function init(map) {
    S.map = map;
    $("concerns-map").leafletMap = map;  // for tests (tests/browser_support.tap_map_at): the page holds no global
    S.layer = L.featureGroup().addTo(map);
    GM.api(GM.url("layer-grids")).then(function (fc) {
      var grids = L.geoJSON(fc, {style: {color: "#37474f", weight: 1, fillOpacity: 0.05}, interactive: false}).addTo(map);
      if (grids.getBounds().isValid()) { map.fitBounds(grids.getBounds(), {padding: [10, 10]}); }
    });
    if ($("concerns-root").dataset.level === "planner") {  // figures and the concern map only: no board, no list
      $("map-status").textContent = "";
      showKpis();
      return;
    }
    map.on("click", function (e) { if (!$("report-form").hidden) { setPoint(e.latlng); } });
    function openTab(b) {
      document.querySelectorAll(".concern-tabs [data-state]").forEach(function (o) { o.classList.toggle("active", o === b); });
      S.tab = b.dataset.state;
    }
    document.querySelectorAll(".concern-tabs [data-state]").forEach(function (b) {
      b.addEventListener("click", function () { openTab(b); load(); });
    });
    var asked = new URLSearchParams(window.location.search).get("state");  // the bell's link: ?state=overdue
    var tab = asked && document.querySelector(".concern-tabs [data-state=\"" + asked.replace(/[^a-z_]/g, "") + "\"]");
    if (tab) { openTab(tab); }
    $("report-open").addEventListener("click", openReport);
    $("report-cancel").addEventListener("click", function () { $("report-form").hidden = true; forHousehold(null); });
    var wanted = new URLSearchParams(window.location.search);  // my-grid's links: ?report=1, ?household=<id>
    if (wanted.get("report") === "1" || wanted.get("household")) { openReport(); }
    if (/^[0-9]{1,10}$/.test(wanted.get("household") || "")) {
      GM.api(GM.url("household", Number(wanted.get("household")))).then(forHousehold, function (err) {
        say(GM.refusalText(err), "error");
      });
    }
    $("use-gps").addEventListener("click", function () {
      if (!navigator.geolocation) { say(gettext("此设备无法定位"), "error"); return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        setPoint(L.latLng(p.coords.latitude, p.coords.longitude)); S.map.setView([p.coords.latitude, p.coords.longitude], 17);
      }, function () { say(gettext("定位失败，请在地图上点选"), "error"); });
    });
    $("report-form").addEventListener("submit", submitReport);
    $("report-form").elements.category.addEventListener("change", checkDuplicates);
    $("duplicates").addEventListener("click", function (e) { if (e.target.dataset.show) { show(Number(e.target.dataset.show)); } });
    $("kpi-open").addEventListener("click", showKpis);
    $("concern-detail").addEventListener("click", function (e) {
      if (e.target.dataset.show) { show(Number(e.target.dataset.show)); return; }  // a merge's link
      if (e.target.dataset.act !== "reveal-contact") { return; }
      var form = $("concern-detail").querySelector(".reveal-form");
      form.hidden = false;
      form.reason.focus();
    });
    $("concern-detail").addEventListener("submit", function (e) {
      if (e.target.classList.contains("reveal-form")) { revealContact(e); }
    });
    $("concern-list").addEventListener("click", function (e) {
      var t = e.target;
      if (t.dataset.show) { show(Number(t.dataset.show)); }
      if (t.dataset.act && t.closest(".concern-actions")) { step(t); }
    });
    var params = new URLSearchParams(window.location.search);  // from "my tasks" on /my-grid/
    if (params.get("report") === "1") { $("report-open").click(); }
    load().then(function () {
      var id = Number(params.get("concern"));
      if (id > 0) { show(id); focus(id); }
    });
  }

  window.GridConcerns = {init: init, load: load, say: say, show: show, rows: function () { return S.rows; }};
})();
