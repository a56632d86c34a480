/* The grid leader's view (phone first): his grid, its households on the map and in a searchable list,
 * a household card with masked ID and phone, "show full" with a reason (logged on the server), edits,
 * moving the point inside the grid, and the visit log. */
(function () {
  "use strict";
  var P = window.GridPeople, esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var state = {households: [], markers: {}, map: null, colour: "tag", moving: null, card: null};
  var root;

  function markerStyle(h) {
    var fill = state.colour === "link"
      ? (h.central ? "#d7191c" : (h.linked_to ? "#2b83ba" : "#9e9e9e")) : P.tagColour(h.tags);
    return {radius: h.central ? 7 : 5, color: h.vulnerable ? "#e65100" : "#263238", weight: h.vulnerable ? 2 : 1,
            fillColor: fill, fillOpacity: 0.9, className: "hh-marker"};
  }

  function matches(h, q, filter) {
    if (q && (h.address + " " + h.head_name).toLowerCase().indexOf(q) < 0) { return false; }
    if (!filter) { return true; }
    if (filter === "vulnerable") { return h.vulnerable; }
    if (filter === "linked") { return h.central || Boolean(h.linked_to); }
    if (filter === "unlinked") { return !h.central && !h.linked_to; }
    return h.tags.indexOf(filter) >= 0;
  }

  function chipsHtml(tags) {
    return tags.map(function (t) {
      return P.TAGS[t] ? "<span class=\"chip\" style=\"--c:" + esc(P.TAGS[t][1]) + "\">" + esc(P.TAGS[t][0]) + "</span>" : "";
    }).join("");
  }

  function renderList() {
    var q = document.getElementById("hh-search").value.trim().toLowerCase();
    var filter = document.getElementById("hh-filter").value;
    var shown = state.households.filter(function (h) { return matches(h, q, filter); });
    document.getElementById("hh-count").textContent = interpolate(gettext("显示 %(n)s / %(total)s 户"),
      {n: shown.length, total: state.households.length}, true);
    document.getElementById("hh-list").innerHTML = shown.slice(0, 300).map(function (h) {
      return "<li><button type=\"button\" class=\"hh-item\" data-id=\"" + esc(h.id) + "\"><span class=\"addr\">" +
        esc(h.address) + "</span> <span class=\"muted\">" + esc(h.head_name) + "</span> " +
        (h.central ? "<span class=\"chip central\">" + gettext("中心户") + "</span>" : "") + chipsHtml(h.tags) +
        "</button></li>";
    }).join("");
    Object.keys(state.markers).forEach(function (id) {
      var m = state.markers[id], h = m.household;
      m.setStyle(markerStyle(h));
      m.setStyle({opacity: matches(h, q, filter) ? 1 : 0.15, fillOpacity: matches(h, q, filter) ? 0.9 : 0.1});
    });
  }

  function tagLabel(key) { return P.TAGS[key] ? P.TAGS[key][0] : key; }

  function cardHtml(c) {
    var tags = Object.keys(c.tags).filter(function (k) { return c.tags[k]; });
    var rows = [
      "<div class=\"card-head\"><strong>" + esc(c.address) + "</strong>" +
        "<button type=\"button\" class=\"close\" data-act=\"close\" aria-label=\"" + gettext("关闭") + "\">×</button></div>",
      "<dl class=\"facts\"><dt>" + gettext("户主") + "</dt><dd>" + esc(c.head_name) + "</dd>" +
        "<dt>" + gettext("电话") + "</dt><dd class=\"pii-phone\">" + esc(c.phone) + "</dd>" +
        "<dt>" + gettext("身份证号") + "</dt><dd class=\"pii-id\">" + esc(c.id_number) + "</dd>" +
        "<dt>" + gettext("人数") + "</dt><dd>" + esc(c.residents) + "</dd>" +
        "<dt>" + gettext("标签") + "</dt><dd>" + (chipsHtml(tags) || "—") + "</dd>" +
        "<dt>" + gettext("党员中心户") + "</dt><dd>" + (c.central ? gettext("是") : (c.linked_to
          ? esc(interpolate(gettext("已联系：%(a)s"), {a: c.linked_to.address}, true)) : gettext("未联系"))) + "</dd>" +
        "<dt>" + gettext("最近服务站") + "</dt><dd>" + (c.station ? esc(c.station.name) + " · " +
          esc(interpolate(gettext("%(m)s 米"), {m: Math.round(c.station.distance_m)}, true)) +
          (c.station.within_radius ? "" : " <span class=\"warn\">" + gettext("超出服务半径") + "</span>") : "—") + "</dd>" +
        "<dt>" + gettext("帮扶") + "</dt><dd>" + (c.help_pairs.map(function (p) { return esc(p.member || p.unit); })
          .join("、") || "—") + "</dd></dl>",
      "<div class=\"actions\"><button type=\"button\" data-act=\"reveal\">" + gettext("显示完整") + "</button>" +
        "<button type=\"button\" data-act=\"edit\">" + gettext("编辑") + "</button>" +
        (root.dataset.canMove === "1" ? "<button type=\"button\" data-act=\"move\">" + gettext("移动位置") + "</button>" : "") +
        "<a class=\"report\" href=\"" + esc(root.dataset.reportUrl + "?household=" + c.id) + "\">" + gettext("为此户上报诉求") + "</a>" +
        "</div>",
      "<form class=\"reveal-form\" hidden><label>" + gettext("查看原因（将记录在案）") +
        "<input name=\"reason\" required minlength=\"2\" maxlength=\"500\"></label>" +
        "<button type=\"submit\">" + gettext("确认查看") + "</button></form>",
      "<form class=\"edit-form\" hidden>" +
        "<label>" + gettext("地址") + "<input name=\"address\" value=\"" + esc(c.address) + "\" maxlength=\"200\"></label>" +
        "<label>" + gettext("人数") + "<input name=\"residents\" type=\"number\" min=\"1\" max=\"99\" value=\"" + esc(c.residents) + "\"></label>" +
        "<label>" + gettext("新电话（留空不改）") + "<input name=\"phone\" inputmode=\"tel\" maxlength=\"11\"></label>" +
        "<fieldset><legend>" + gettext("标签") + "</legend>" + Object.keys(P.TAGS).map(function (k) {
          return "<label class=\"check\"><input type=\"checkbox\" name=\"" + esc(k) + "\"" + (c.tags[k] ? " checked" : "") +
            ">" + esc(tagLabel(k)) + "</label>";
        }).join("") + "</fieldset><button type=\"submit\">" + gettext("保存") + "</button></form>",
      "<p class=\"card-msg\" role=\"status\"></p>",
      "<h3>" + gettext("走访记录") + "</h3><form class=\"visit-form\"><input name=\"visited_on\" type=\"date\" required " +
        "value=\"" + esc(new Date().toISOString().slice(0, 10)) + "\"><input name=\"note\" required maxlength=\"2000\" placeholder=\"" +
        gettext("走访情况") + "\"><button type=\"submit\">" + gettext("记录") + "</button></form>" +
        "<ul class=\"visits\">" + c.visits.map(function (v) {
          return "<li><b>" + esc(v.visited_on) + "</b> " + esc(v.visitor) + "：" + esc(v.note) + "</li>";
        }).join("") + "</ul>",
      window.GridHelpPairs.pairsHtml(c, root.dataset.canPair === "1")
    ];
    return rows.join("");
  }

  function message(text, bad) {
    var el = document.querySelector("#hh-card .card-msg");
    if (el) { el.textContent = text; el.className = "card-msg" + (bad ? " error" : ""); }
  }

  function openCard(id) {
    GM.api(GM.url("household", id)).then(function (data) {
      var card = document.getElementById("hh-card");
      state.card = data;
      card.innerHTML = cardHtml(data);
      window.GridHelpPairs.afterRender(card);
      card.hidden = false;
      card.dataset.id = id;
      card.dataset.etag = data.etag || "";
      history.replaceState(null, "", root.dataset.pageUrl + "households/" + id + "/");
      var m = state.markers[id];
      if (m) { m.setStyle({weight: 4, color: "#000"}); m.bringToFront(); }
      card.scrollIntoView({behavior: "smooth", block: "start"});
    }, function () { document.getElementById("hh-card").hidden = true; });
  }

  /* A refused write on the open household: 412 means someone else changed it, so the card is read again. */
  function refusedOn(id) {
    return function (err) {
      message(GM.refusalText(err), true);
      if (err && err.http === 412) { openCard(id); }
    };
  }

  function closeCard() {
    document.getElementById("hh-card").hidden = true;
    state.moving = null;
    history.replaceState(null, "", root.dataset.pageUrl + "?grid=" + root.dataset.grid);
    renderList();
  }

  function onCardClick(e) {
    var act = e.target.dataset.act, card = document.getElementById("hh-card");
    if (act === "close") { closeCard(); }
    if (act === "reveal") { card.querySelector(".reveal-form").hidden = false; card.querySelector("[name=reason]").focus(); }
    if (act === "edit") { card.querySelector(".edit-form").hidden = false; }
    if (act === "move") { state.moving = Number(card.dataset.id); message(gettext("请在地图上点击新位置（须在本网格内）")); }
  }

  function onCardSubmit(e) {
    e.preventDefault();
    var form = e.target, id = document.getElementById("hh-card").dataset.id;
    if (form.classList.contains("reveal-form")) {
      GM.api(GM.url("household-reveal", id), {method: "POST", body: {reason: form.reason.value}}).then(function (data) {
        document.querySelector("#hh-card .pii-phone").textContent = data.phone || "—";
        document.querySelector("#hh-card .pii-id").textContent = data.id_number || "—";
        form.hidden = true;
        message(gettext("已显示完整信息，本次查看已记录"));
      }, function (err) { message(GM.refusalText(err), true); });
    } else if (form.classList.contains("edit-form")) {
      var body = {address: form.address.value, residents: Number(form.residents.value)};
      if (form.phone.value.trim()) { body.phone = form.phone.value.trim(); }
      Object.keys(P.TAGS).forEach(function (k) { body[k] = form[k].checked; });
      GM.api(GM.url("household", id), {method: "PATCH", body: body, ifMatch: GM.etagOf(state.card)})
        .then(function () { reload(function () { openCard(id); }); }, refusedOn(id));
    } else if (form.classList.contains("visit-form")) {
      GM.api(GM.url("household-visits", id), {method: "POST", ifMatch: GM.etagOf(state.card),
                                              body: {visited_on: form.visited_on.value, note: form.note.value}})
        .then(function () { openCard(id); }, refusedOn(id));
    }
  }

  function onMapClick(e) {
    if (!state.moving) { return; }
    var id = state.moving;
    GM.api(GM.url("household-move", id), {method: "POST", body: {lon: e.latlng.lng, lat: e.latlng.lat},
                                          ifMatch: GM.etagOf(state.card)}).then(function () {
      state.moving = null;
      reload(function () { openCard(id); });
    }, refusedOn(id));
  }

  var layers = null;
  function draw(data) {
    var map = state.map;
    if (layers) { map.removeLayer(layers); }
    layers = L.featureGroup().addTo(map);
    var grid = L.geoJSON(data.grid.geometry, {style: {color: "#1a237e", weight: 2, fillOpacity: 0.04}, interactive: false})
      .addTo(layers);
    var byId = {};
    data.households.forEach(function (h) { byId[h.id] = h; });
    data.links.forEach(function (l) {
      var c = byId[l[0]], h = byId[l[1]];
      if (c && h) { L.polyline([[c.lat, c.lon], [h.lat, h.lon]], {color: "#d7191c", weight: 1, opacity: 0.5,
                                                                   interactive: false}).addTo(layers); }
    });
    state.markers = {};
    data.households.forEach(function (h) {
      var m = L.circleMarker([h.lat, h.lon], markerStyle(h)).addTo(layers);
      m.household = h;
      m.on("click", function () { openCard(h.id); });
      state.markers[h.id] = m;
    });
    var info = document.getElementById("station-info");
    if (data.station) {
      L.marker([data.station.lat, data.station.lon], {icon: L.divIcon({className: "station-icon", html: esc(gettext("站")),
        iconSize: [22, 22]}), title: data.station.name}).addTo(layers);
      info.textContent = interpolate(gettext("最近服务站：%(name)s，距网格 %(m)s 米"),
        {name: data.station.name, m: data.station.distance_m}, true);
    } else {
      info.textContent = gettext("附近没有服务站");
    }
    document.getElementById("grid-title").textContent = data.grid.name + " · " + data.households.length + " " + gettext("户");
    return grid;
  }

  function reload(then) {
    var status = document.getElementById("map-status");
    GM.api(GM.url("grid-households", root.dataset.grid)).then(function (data) {
      state.households = data.households;
      var grid = draw(data);
      if (!root.dataset.loaded) { state.map.fitBounds(grid.getBounds(), {padding: [8, 8]}); }
      renderList();
      root.dataset.loaded = "true";
      status.textContent = interpolate(gettext("已加载 %(n)s 户"), {n: state.households.length}, true);
      status.classList.add("done");
      if (then) { then(); }
    }, function (err) {
      status.textContent = gettext("地图数据加载失败") + "：" + GM.refusalText(err);
      status.classList.add("error");
    });
  }

  function init(map) {
    root = document.getElementById("leader-root");
    state.map = map;
    map.on("click", onMapClick);
    document.getElementById("hh-search").addEventListener("input", renderList);
    document.getElementById("hh-filter").addEventListener("change", renderList);
    document.getElementById("hh-colour").addEventListener("change", function (e) { state.colour = e.target.value; renderList(); });
    document.getElementById("hh-list").addEventListener("click", function (e) {
      var b = e.target.closest(".hh-item");
      if (b) { openCard(Number(b.dataset.id)); }
    });
    var card = document.getElementById("hh-card");
    card.addEventListener("click", onCardClick);
    card.addEventListener("submit", onCardSubmit);
    window.GridHelpPairs.bind(card, openCard, refusedOn);
    var select = document.getElementById("grid-select");
    if (select) { select.addEventListener("change", function () { window.location = root.dataset.pageUrl + "?grid=" + select.value; }); }
    reload(function () { if (root.dataset.household) { openCard(Number(root.dataset.household)); } });
  }

  window.GridLeader = {init: init};
})();
