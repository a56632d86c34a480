/* Staffing map: grids coloured by staffing status; a grid's panel opens on its staffing gaps and the assign
 * form (the role the gap needs preselected, candidates of the whole registry, search by name, initials or
 * phone digits), says what was done, and asks before ending an assignment; the staff list follows. Dragging a member onto the staff list assigns too. ?grid=ID opens that grid (the work list's
 * links). Central households of the grid: designate, accept the suggested nearest households, link by clicking. */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var COLOURS = {no_leader: "#c62828", no_fulltime: "#ef6c00", overloaded: "#f9a825", staffed: "#2e7d32"};
  var LABELS = {no_leader: gettext("未配网格长"), no_fulltime: gettext("无专职网格员"),
                overloaded: gettext("专职网格员负担过重"), staffed: gettext("配备齐全"),
                several_leaders: gettext("网格长多于一人"), size_low: gettext("户数低于标准"), size_high: gettext("户数高于标准")};
  var S = {map: null, grids: null, gridId: null, hh: null, central: null, linking: false, data: null, flash: null};
  var root, panel;

  function gridStyle(f) {
    return {color: "#37474f", weight: f.id === S.gridId ? 3 : 1, fillColor: COLOURS[f.properties.staffing] || "#9e9e9e",
            fillOpacity: 0.35, className: "staff-grid staff-" + f.properties.staffing};
  }

  function loadGrids(then) {
    return GM.api(GM.url("layer-staffing")).then(function (data) {
      if (S.grids) { S.map.removeLayer(S.grids); }
      S.grids = L.geoJSON(data, {
        style: gridStyle,
        onEachFeature: function (f, layer) {
          layer.on("click", function () { selectGrid(f.id); });
          layer.on("add", function () { if (layer._path) { layer._path.dataset.grid = f.id; } });
        }
      }).addTo(S.map);
      S.grids.bringToBack();
      if (then) { then(data); }
    });
  }

  function feature(id) {
    var found = null;
    S.grids.eachLayer(function (l) { if (l.feature.id === id) { found = l.feature; } });
    return found;
  }

  function selectGrid(id) {
    if (S.gridId !== id) {
      S.grids.eachLayer(function (l) { if (l.feature.id === id) { S.map.fitBounds(l.getBounds(), {padding: [20, 20]}); } });
    }
    S.gridId = id;
    S.central = null;
    S.linking = false;
    S.grids.setStyle(gridStyle);
    GM.api(GM.url("grid-staff", id)).then(renderPanel).then(function () { return GM.api(GM.url("grid-households", id)); })
      .then(function (data) { S.data = data; drawHouseholds(); renderCentral(); }, function () { /* shown by GM.api */ });
  }

  /* The role a gap asks for first: a leader, then a full-time worker; else the first the user may assign. */
  function neededRole(p, roles) {
    var want = p.staffing === "no_leader" ? "leader" : (p.staffing === "no_fulltime" ? "fulltime" : null);
    return roles.some(function (r) { return r.value === want; }) ? want : (roles[0] && roles[0].value);
  }

  function renderPanel(staff) {
    var f = feature(S.gridId), p = f.properties, want = neededRole(p, staff.assignable_roles);
    var warningsHtml = (p.warnings || []).map(function (w) { return "<li>" + esc(LABELS[w] || w) + "</li>"; }).join("");
    var rolesHtml = staff.assignable_roles.map(function (r) {
      return "<option value=\"" + esc(r.value) + "\"" + (r.value === want ? " selected" : "") + ">" + esc(r.label) + "</option>";
    }).join("");
    var staffItems = staff.active.map(function (a) {
      return "<li><span>" + esc(a.role_label) + "：" + esc(a.member.name) + " <small class=\"muted\">" + esc(a.start_date) +
        "</small></span><button type=\"button\" data-end=\"" + esc(a.id) + "\" data-etag=\"" + esc(a.etag) + "\" data-name=\"" +
        esc(a.member.name) + "\">" + gettext("结束") + "</button></li>";
    }).join("") + "<li class=\"muted\">" + gettext("把下方人员拖到这里即可分配") + "</li>";
    var staffTitle = esc(interpolate(gettext("在任人员（%(n)s）"), {n: staff.active.length}, true));
    panel.innerHTML =
      "<h2>" + esc(p.name) + " <small class=\"muted\">" + esc(p.code) + "</small></h2>" +
      "<p>" + esc(interpolate(gettext("%(h)s 户 · 专职网格员 %(f)s 人"), {h: p.households, f: p.fulltime}, true)) +
      (p.per_fulltime ? " · " + esc(interpolate(gettext("每人 %(n)s 户"), {n: p.per_fulltime}, true)) : "") + "</p>" +
      "<p class=\"staff-status\" data-status=\"" + esc(p.staffing) + "\"><span class=\"staffing-legend\"><span class=\"key\" style=\"--c:" +
      esc(COLOURS[p.staffing]) + "\"></span></span>" + esc(LABELS[p.staffing]) + "</p>" +
      (warningsHtml ? "<ul class=\"warnings\">" + warningsHtml + "</ul>" : "") +
      "<p id=\"panel-msg\" role=\"status\"></p>" +
      "<h3>" + gettext("分配人员") + "</h3><div class=\"assign\"><select id=\"assign-role\" aria-label=\"" + gettext("职务") + "\">" +
      rolesHtml + "</select> " +
      "<input id=\"assign-date\" type=\"date\" aria-label=\"" + gettext("开始日期") + "\" value=\"" + esc(new Date().toISOString().slice(0, 10)) + "\"> " +
      "<label><input id=\"assign-replace\" type=\"checkbox\"> " + gettext("替换现任网格长") + "</label><br>" +
      "<input id=\"member-q\" type=\"search\" placeholder=\"" + gettext("姓名、拼音首字母或电话后几位") + "\"> " +
      "<label><input id=\"member-free\" type=\"checkbox\"> " + gettext("仅未分配") + "</label></div>" +
      "<ul id=\"member-list\"></ul>" +
      "<h3>" + staffTitle + "</h3><ul id=\"staff-drop\" class=\"staff\">" + staffItems + "</ul>" +
      "<details><summary>" + gettext("历史任职") + "</summary><ul>" + staff.history.map(function (a) {
        return "<li>" + esc(a.role_label) + "：" + esc(a.member.name) + " " + esc(a.start_date) + "—" + esc(a.end_date) + "</li>";
      }).join("") + "</ul></details><div id=\"central-panel\"></div>";
    if (S.flash) { msg(S.flash.text, S.flash.bad); S.flash = null; }
    searchMembers();
  }

  function msg(text, bad) {
    var el = document.getElementById("panel-msg");
    if (el) { el.textContent = text; el.className = bad ? "error" : ""; }
  }

  function searchMembers() {
    var q = document.getElementById("member-q").value.trim();
    var free = document.getElementById("member-free").checked ? "&unassigned=1" : "";
    GM.api(GM.url("members") + "?q=" + encodeURIComponent(q) + free).then(function (data) {
      var list = document.getElementById("member-list");
      list.innerHTML = data.results.map(function (m) {
        return "<li class=\"member\" draggable=\"true\" data-member=\"" + esc(m.id) + "\" data-name=\"" + esc(m.name) + "\"><span>" + esc(m.name) +
          (m.is_party_member ? " <span class=\"chip\" style=\"--c:#c62828\">" + gettext("党员") + "</span>" : "") +
          " <small class=\"muted\">" + esc(m.phone) + "</small></span><button type=\"button\" data-assign=\"" + esc(m.id) + "\">" +
          gettext("分配") + "</button></li>";
      }).join("") || "<li class=\"muted\">" + gettext("没有符合条件的人员") + "</li>";
    }, function () { document.getElementById("member-list").textContent = ""; });
  }

  /* After a write: read the grid's colours and staff again, and say what was done in the panel. */
  function reloadWith(text) {
    var id = S.gridId;
    S.flash = {text: text, bad: false};
    loadGrids(function () { selectGrid(id); });
  }

  function assign(memberId, name) {
    var role = document.getElementById("assign-role");
    var body = {member: memberId, role: role.value, start_date: document.getElementById("assign-date").value,
                replace_leader: document.getElementById("assign-replace").checked};
    var roleLabel = role.options[role.selectedIndex].text;
    GM.api(GM.url("grid-staff", S.gridId), {method: "POST", body: body}).then(function () {
      reloadWith(interpolate(gettext("已分配：%(name)s 任%(role)s"), {name: name || "", role: roleLabel}, true));
    }, refused);
  }

  /* Ending an assignment asks first: the first click turns the button into "确认结束", the second ends it. */
  function endAssignment(button) {
    if (!button.classList.contains("confirm")) {
      button.classList.add("confirm");
      button.textContent = gettext("确认结束？");
      msg(interpolate(gettext("再点一次“确认结束？”即结束 %(name)s 的任职"), {name: button.dataset.name}, true));
      return;
    }
    GM.api(GM.url("assignment-end", Number(button.dataset.end)), {method: "POST", ifMatch: button.dataset.etag,
                                          body: {end_date: document.getElementById("assign-date").value}})
      .then(function () {
        reloadWith(interpolate(gettext("已结束 %(name)s 的任职"), {name: button.dataset.name}, true));
      }, refused);
  }

  /* A refused write: the reason in the panel too; 412 (changed by someone else) reads the grid again. */
  function refused(err) {
    msg(GM.refusalText(err), true);
    if (err && err.http === 412 && S.gridId) { var grid = S.gridId; loadGrids(function () { selectGrid(grid); }); }
  }

  function link(ids) {
    GM.api(GM.url("central-links", S.central), {method: "POST", body: {household_ids: ids},
                                                ifMatch: S.centralEtag}).then(afterLinks, refused);
  }

  /* Select a central household; its state (links, warnings) is read for the ETag its link writes name. */
  function selectCentral(id) {
    S.central = id; S.linking = false; S.centralEtag = undefined;
    drawHouseholds(); renderCentral();
    GM.api(GM.url("central-household", id), {quiet: true}).then(function (status) {
      if (S.central === id) { S.centralEtag = status.etag; }
    }, function () { /* a link write without the ETag is refused (428) and says so */ });
  }

  /* Households of the selected grid, central households and their link lines. */
  function drawHouseholds() {
    if (S.hh) { S.map.removeLayer(S.hh); }
    S.hh = L.featureGroup().addTo(S.map);
    var byId = {};
    S.data.households.forEach(function (h) { byId[h.id] = h; });
    S.data.links.forEach(function (l) {
      var c = byId[l[0]], h = byId[l[1]];
      if (c && h) {
        L.polyline([[c.lat, c.lon], [h.lat, h.lon]], {color: l[2] > Number(root.dataset.linkMax) ? "#ff6f00" : "#d7191c",
          weight: 2, opacity: 0.8, className: "link-line link-from-" + c.id, interactive: false}).addTo(S.hh);
      }
    });
    S.data.households.forEach(function (h) {
      var m = L.circleMarker([h.lat, h.lon], {radius: h.central ? 8 : 5, weight: h.id === S.central ? 3 : 1,
        color: h.id === S.central ? "#000" : "#263238",
        fillColor: h.central ? "#d7191c" : (h.linked_to ? "#2b83ba" : (h.tags.indexOf("is_party_member") >= 0 ? "#ffb300" : "#9e9e9e")),
        fillOpacity: 0.95, className: "hh-dot" + (h.central ? " hh-central" : "") +
          (h.tags.indexOf("is_party_member") >= 0 ? " hh-party" : "")}).addTo(S.hh);
      m.on("click", function () { householdClicked(h); });
      if (m._path) { m._path.dataset.household = h.id; }
    });
  }

  function householdClicked(h) {
    if (S.linking && S.central && h.id !== S.central) {
      link([h.id]);
      return;
    }
    if (h.central) { selectCentral(h.id); return; }
    if (root.dataset.canCentral === "1" && h.tags.indexOf("is_party_member") >= 0 && !h.linked_to) {
      L.popup().setLatLng([h.lat, h.lon]).setContent("<div class=\"popup\"><b>" + esc(h.address) + "</b><br>" +
        "<button type=\"button\" class=\"designate\" data-id=\"" + esc(h.id) + "\">" + gettext("设为党员中心户") + "</button></div>")
        .openOn(S.map);
    } else {
      L.popup().setLatLng([h.lat, h.lon]).setContent(esc(h.address)).openOn(S.map);
    }
  }

  function reloadHouseholds(then) {
    GM.api(GM.url("grid-households", S.gridId)).then(function (data) {
      S.data = data; drawHouseholds(); renderCentral(); if (then) { then(); }
    }, function () { /* shown by GM.api */ });
  }

  function afterLinks(data) {
    S.lastStatus = data;
    S.centralEtag = data.etag;
    reloadHouseholds();
  }

  function renderCentral() {
    var box = document.getElementById("central-panel");
    if (!box) { return; }
    var counts = {}, long = {};
    S.data.links.forEach(function (l) {
      counts[l[0]] = (counts[l[0]] || 0) + 1;
      if (l[2] > Number(root.dataset.linkMax)) { long[l[0]] = (long[l[0]] || 0) + 1; }
    });
    var centrals = S.data.households.filter(function (h) { return h.central; });
    var html = "<h3>" + gettext("党员中心户") + "</h3><ul class=\"centrals\">" + centrals.map(function (h) {
      var n = counts[h.id] || 0, warn = [];
      if (n > 15) { warn.push(gettext("联系户过多")); }
      if (n < 5) { warn.push(gettext("联系户不足")); }
      if (long[h.id]) { warn.push(interpolate(gettext("%(n)s 条联系线过长"), {n: long[h.id]}, true)); }
      return "<li" + (h.id === S.central ? " class=\"selected\"" : "") + "><button type=\"button\" class=\"link\" data-central=\"" +
        esc(h.id) + "\" style=\"color:#b71c1c\">" + esc(h.address) + "</button><span>" + esc(n) + " " + gettext("户") +
        (warn.length ? " <span class=\"warn\">" + esc(warn.join("、")) + "</span>" : "") + "</span></li>";
    }).join("") + "</ul>";
    if (S.central) {
      html += "<div class=\"central-actions\"><button type=\"button\" id=\"suggest\">" + gettext("建议联系户") + "</button> " +
        "<button type=\"button\" id=\"link-mode\">" + (S.linking ? gettext("结束点选") : gettext("点选联系户")) + "</button></div>" +
        "<div id=\"suggestion\"></div>";
    }
    box.innerHTML = html;
  }

  function suggest() {
    GM.api(GM.url("central-suggestions", S.central)).then(function (data) {
      var box = document.getElementById("suggestion");
      var ids = data.suggestions.map(function (s) { return s.household_id; });
      var byId = {};
      S.data.households.forEach(function (h) { byId[h.id] = h; });
      var c = byId[S.central];
      data.suggestions.forEach(function (s) {
        var h = byId[s.household_id];
        if (h) { L.polyline([[c.lat, c.lon], [h.lat, h.lon]], {color: "#1565c0", dashArray: "4 4", weight: 2,
                                                              className: "suggestion-line", interactive: false}).addTo(S.hh); }
      });
      box.innerHTML = ids.length ? "<p>" + esc(interpolate(gettext("建议联系最近的 %(n)s 户（最远 %(m)s 米）"),
        {n: ids.length, m: Math.round(data.suggestions[ids.length - 1].distance_m)}, true)) +
        "</p><button type=\"button\" id=\"accept\" data-ids=\"" + esc(ids.join(",")) + "\">" + gettext("接受建议") + "</button>" : "<p class=\"muted\">" + gettext("已满或没有可联系的住户") + "</p>";
    });
  }

  function onPanelClick(e) {
    var t = e.target;
    if (t.dataset.assign) { assign(Number(t.dataset.assign), t.closest("[data-name]").dataset.name); }
    if (t.dataset.end) { endAssignment(t); }
    if (t.dataset.central) { selectCentral(Number(t.dataset.central)); }
    if (t.id === "suggest") { suggest(); }
    if (t.id === "link-mode") { S.linking = !S.linking; renderCentral(); }
    if (t.id === "accept") {
      link(t.dataset.ids.split(",").map(Number));
    }
  }

  function init(map) {
    root = document.getElementById("staffing-root");
    panel = document.getElementById("panel");
    S.map = map;
    panel.addEventListener("click", onPanelClick);
    panel.addEventListener("input", function (e) { if (e.target.id === "member-q") { searchMembers(); } });
    panel.addEventListener("change", function (e) { if (e.target.id === "member-free") { searchMembers(); } });
    panel.addEventListener("dragstart", function (e) {
      var li = e.target.closest && e.target.closest("[data-member]");
      if (li) { e.dataTransfer.setData("text/plain", li.dataset.member); e.dataTransfer.setData("text/x-name", li.dataset.name); }
    });
    panel.addEventListener("dragover", function (e) {
      if (e.target.closest && e.target.closest("#staff-drop")) { e.preventDefault(); e.target.closest("#staff-drop").classList.add("drop"); }
    });
    panel.addEventListener("drop", function (e) {
      var zone = e.target.closest && e.target.closest("#staff-drop");
      if (!zone) { return; }
      e.preventDefault();
      zone.classList.remove("drop");
      assign(Number(e.dataTransfer.getData("text/plain")), e.dataTransfer.getData("text/x-name"));
    });
    map.on("popupopen", function (e) {
      var b = e.popup.getElement().querySelector(".designate");
      if (!b) { return; }
      b.addEventListener("click", function () {
        var id = Number(b.dataset.id);
        map.closePopup();
        GM.api(GM.url("central-household", id), {method: "POST"}).then(function (status) {
          S.central = id;
          S.centralEtag = status.etag;
          reloadHouseholds();
        }, refused);
      });
    });
    var status = document.getElementById("map-status");
    loadGrids(function (data) {
      if (S.grids.getBounds().isValid()) { map.fitBounds(S.grids.getBounds(), {padding: [10, 10]}); }
      root.dataset.loaded = "true";
      status.textContent = interpolate(gettext("已加载 %(n)s 个网格"), {n: data.features.length}, true);
      status.classList.add("done");
      addLegend(map);
      var wanted = Number(new URLSearchParams(window.location.search).get("grid"));
      if (wanted && feature(wanted)) { selectGrid(wanted); }
    });
  }

  function addLegend(map) {
    var legend = L.control({position: "bottomright"});
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "legend staffing-legend");
      div.innerHTML = Object.keys(COLOURS).map(function (k) {
        return "<div><span class=\"key\" style=\"--c:" + esc(COLOURS[k]) + "\"></span>" + esc(LABELS[k]) + "</div>";
      }).join("");
      return div;
    };
    legend.addTo(map);
  }

  window.GridStaffing = {init: init};
})();
