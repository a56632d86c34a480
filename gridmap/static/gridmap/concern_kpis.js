/* The 统计 panel of /concerns/ (issue #17): the KPIs per grid, community or street of the user's scope for a period
 * (queries/concern_kpis.py: 应结案数, 结案率 and 按期结案率 over the cases due, 返工率, 满意率, open, overdue, mean
 * hours to close) with the 合计 row, the four stages of the whole scope (mean hours, on-time rate), the weekly trend
 * drawn here as inline SVG (reported and closed per ISO week, api/concern_reports.trend) and, for staff, the link
 * to the XLSX ledger (台账) of the period. One period for the panel: its dates are the concern map's (concern_map.js
 * reads #cm-from and #cm-to), so the figures, the trend and the map always show the same days.
 * Planners get counts under 5 as "<5" from the server; "—" where there is nothing to divide. */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var SERIES = [["reported", "#1565c0"], ["closed", "#2e7d32"]];  // the chart's two lines; the legend names them
  var K = {map: null, markers: null, asked: 0};

  function $(id) { return document.getElementById(id); }

  /* Dates as the server writes them (YYYY-MM-DD), counted in whole days without any time zone. */
  function parse(day) { var p = day.split("-"); return new Date(Date.UTC(+p[0], +p[1] - 1, +p[2])); }
  function iso(d) { return d.toISOString().slice(0, 10); }
  function plus(day, n) { var d = parse(day); d.setUTCDate(d.getUTCDate() + n); return iso(d); }

  /* A preset's first and last day, up to today in the site's time zone (the page's data-today). */
  function preset(name) {
    var today = $("concern-kpis").dataset.today, d = parse(today);
    if (name === "7") { return [plus(today, -6), today]; }
    if (name === "30") { return [plus(today, -29), today]; }
    if (name === "quarter") { return [iso(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - d.getUTCMonth() % 3, 1))), today]; }
    return [plus(today, -364), today];  // 近一年: the server's default period
  }

  function period() {
    var q = new URLSearchParams();
    if ($("cm-from").value) { q.set("from", $("cm-from").value); }
    if ($("cm-to").value) { q.set("to", $("cm-to").value); }
    return q;
  }

  function pct(v) { return v === null || v === undefined ? "—" : v + "%"; }
  function hours(v) { return v === null || v === undefined ? "—" : String(v); }

  function cells(r) {
    return [r.due, pct(r.closure_rate), pct(r.on_time_rate), pct(r.rework_rate), pct(r.satisfaction_rate), r.open,
      r.overdue, hours(r.mean_hours_to_close)].map(function (v) { return "<td>" + esc(v) + "</td>"; }).join("");
  }

  function drawTable(data) {
    $("kpi-area-head").textContent = {grid: gettext("网格"), community: gettext("社区"), street: gettext("街道")}[data.by];
    $("kpi-rows").innerHTML = data.rows.map(function (r) {
      return "<tr><th scope=\"row\">" + esc(r.name || gettext("（无网格）")) + "</th>" + cells(r) + "</tr>";
    }).join("") || "<tr><td colspan=\"9\" class=\"muted\">" + esc(gettext("没有诉求")) + "</td></tr>";
    $("kpi-total").innerHTML = data.rows.length ? "<tr><th scope=\"row\">" + esc(gettext("合计")) + "</th>" + cells(data.total) + "</tr>" : "";
    var names = {accept: gettext("受理"), dispatch: gettext("派遣"), handle: gettext("处置"), verify: gettext("核查")};
    $("kpi-stages").innerHTML = ["accept", "dispatch", "handle", "verify"].map(function (s) {
      var st = data.total.stages[s];
      return "<tr><th scope=\"row\">" + esc(names[s]) + "</th><td>" + esc(st.left) + "</td><td>" + esc(hours(st.mean_hours)) +
        "</td><td>" + esc(pct(st.on_time_rate)) + "</td></tr>";
    }).join("");
    var t = data.total;  // what party members and volunteers gave through claimed wishes and projects (认领)
    $("kpi-claims").textContent = interpolate(gettext("已认领 %(n)s 件，服务 %(h)s 小时，受益 %(p)s 人"),
      {n: t.claimed, h: hours(t.service_hours), p: t.beneficiaries}, true);
  }

  /* The weekly trend as an SVG line chart: reported and closed per week, a gap where a planner's count is "<5";
   * every point names its week and both counts (a <title>, shown on hover or a long press). */
  function drawTrend(data) {
    var W = 360, H = 180, L = 34, R = 20, T = 10, B = 26, weeks = data.weeks, n = weeks.length;
    var top = 2;  // the scale's top: a round even number over the largest count, so its half is whole too
    weeks.forEach(function (w) { SERIES.forEach(function (s) { if (typeof w[s[0]] === "number") { top = Math.max(top, w[s[0]]); } }); });
    var step = Math.pow(10, Math.floor(Math.log10(top)));
    top = [1, 2, 4, 6, 8, 10].map(function (m) { return m * step; }).filter(function (v) { return v >= top; })[0];
    function x(i) { return n > 1 ? L + i * (W - L - R) / (n - 1) : (L + W - R) / 2; }
    function y(v) { return T + (H - T - B) * (1 - v / top); }
    var out = ["<svg class=\"trend-chart\" viewBox=\"0 0 " + W + " " + H + "\" role=\"img\" aria-labelledby=\"kpi-trend-title\">",
      "<title id=\"kpi-trend-title\">" + esc(gettext("每周上报与结案")) + "</title>"];
    [0, top / 2, top].forEach(function (v) {
      out.push("<line class=\"grid-line\" x1=\"" + L + "\" x2=\"" + (W - R) + "\" y1=\"" + y(v) + "\" y2=\"" + y(v) + "\"></line>" +
        "<text class=\"y-label\" x=\"" + (L - 4) + "\" y=\"" + (y(v) + 4) + "\">" + esc(v) + "</text>");
    });
    var every = Math.max(1, Math.ceil(n / 5));
    weeks.forEach(function (w, i) {
      if (i % every === 0) {
        out.push("<text class=\"x-label\" x=\"" + x(i) + "\" y=\"" + (H - 8) + "\">" + esc(w.week.slice(5)) + "</text>");
      }
    });
    SERIES.forEach(function (s) {
      var run = [];
      function flush() {
        if (run.length > 1) { out.push("<polyline class=\"series-" + s[0] + "\" fill=\"none\" stroke=\"" + s[1] + "\" points=\"" + run.join(" ") + "\"></polyline>"); }
        run = [];
      }
      weeks.forEach(function (w, i) {
        if (typeof w[s[0]] !== "number") { flush(); return; }
        run.push(x(i).toFixed(1) + "," + y(w[s[0]]).toFixed(1));
      });
      flush();
    });
    weeks.forEach(function (w, i) {
      var tip = interpolate(gettext("%(week)s 起一周：上报 %(r)s 件，结案 %(c)s 件，其中超期在办 %(o)s 件"),
        {week: w.week, r: w.reported, c: w.closed, o: w.overdue}, true);
      SERIES.forEach(function (s) {
        if (typeof w[s[0]] !== "number" || n > 60) { return; }  // more than a year of weeks: the lines alone
        out.push("<circle class=\"point-" + s[0] + "\" cx=\"" + x(i).toFixed(1) + "\" cy=\"" + y(w[s[0]]).toFixed(1) +
          "\" r=\"2.5\" fill=\"" + s[1] + "\"><title>" + esc(tip) + "</title></circle>");
      });
    });
    out.push("</svg>");
    var legend = "<p class=\"trend-legend\"><span class=\"key reported\"></span>" + esc(gettext("上报")) +
      " <span class=\"key closed\"></span>" + esc(gettext("结案")) + "</p>";
    var t = data.total, note = interpolate(gettext("按周（周一起）统计：共上报 %(r)s 件，结案 %(c)s 件"), {r: t.reported, c: t.closed}, true);
    if (t.closed_after) { note += interpolate(gettext("；其中 %(n)s 件在时段之后结案，未画入"), {n: t.closed_after}, true); }
    if (data.suppressed_below && weeks.some(function (w) { return w.reported === "<" + data.suppressed_below || w.closed === "<" + data.suppressed_below; })) {
      note += interpolate(gettext("；少于 %(n)s 件的周不画出"), {n: data.suppressed_below}, true);
    }
    $("kpi-trend").innerHTML = out.join("") + legend + "<p class=\"muted\">" + esc(note) + "</p>";
  }

  /* 导出台账 (staff only: the link is not on a planner's page): the period's ledger, or why not when the period
   * holds more concerns than one export may (the server refuses it too). */
  function ledger(q, reported) {
    var link = $("kpi-ledger");
    if (!link) { return; }
    var max = Number($("concern-kpis").dataset.ledgerMax), over = typeof reported === "number" && reported > max;
    link.href = GM.url("concern-ledger") + "?" + q.toString();
    link.hidden = over;
    $("kpi-ledger-note").textContent = over ? interpolate(gettext("时段内有 %(n)s 件诉求，超过导出上限 %(max)s 件，请缩短时段"),
      {n: reported, max: max}, true) : "";
  }

  function load() {
    var ask = ++K.asked, q = period(), kq = new URLSearchParams(q);
    kq.set("by", $("kpi-level").value);
    $("kpi-status").textContent = gettext("正在加载…");
    $("concern-kpis").dataset.loaded = "false";
    return Promise.all([GM.api(GM.url("concern-kpis") + "?" + kq.toString(), {quiet: true}),
      GM.api(GM.url("concern-trend") + "?" + q.toString(), {quiet: true})]).then(function (res) {
      if (ask !== K.asked) { return; }
      drawTable(res[0]);
      drawTrend(res[1]);
      ledger(q, res[1].total.reported);
      $("kpi-status").textContent = interpolate(gettext("%(from)s 至 %(to)s"), {from: res[0].from, to: res[0].to}, true);
      if (!$("cm-from").value) { $("cm-from").value = res[0].from; }  // the period the server took
      if (!$("cm-to").value) { $("cm-to").value = res[0].to; }
      $("concern-kpis").dataset.loaded = "true";
    }, function (err) {
      if (ask !== K.asked) { return; }
      $("kpi-status").textContent = GM.refusalText(err);  // e.g. a start after the end: the field named
      if ($("kpi-ledger")) { $("kpi-ledger").hidden = true; }
    });
  }

  function refreshMap() { if (window.GridConcernMap) { window.GridConcernMap.refresh(); } }

  /* The panel open or closed (concerns.js: the 统计 button, or straight away for planners), the map with it. */
  function toggle(map, markers) {
    var box = $("concern-kpis");
    K.map = map; K.markers = markers;
    box.hidden = !box.hidden;
    if (window.GridConcernMap) { window.GridConcernMap.toggle(map, !box.hidden, markers); }  // concern_map.js
    if (box.hidden) { return Promise.resolve(); }
    box.scrollIntoView({block: "start"});  // below the list: brought into view
    return load();
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!$("concern-kpis")) { return; }
    var chosen = preset($("kpi-period").value);
    $("cm-from").value = chosen[0];
    $("cm-to").value = chosen[1];
    $("kpi-period").addEventListener("change", function () {
      if (!this.value) { return; }  // 自定义: the dates as typed
      var p = preset(this.value);
      $("cm-from").value = p[0];
      $("cm-to").value = p[1];
      load();
      refreshMap();
    });
    ["cm-from", "cm-to"].forEach(function (id) {  // concern_map.js refreshes the map on the same change
      $(id).addEventListener("change", function () { $("kpi-period").value = ""; load(); });
    });
    $("kpi-level").addEventListener("change", function () {
      var mapLevel = $("cm-level");  // the map follows where it can: grids or communities
      if (mapLevel && this.value !== "street" && mapLevel.value !== this.value) {
        mapLevel.value = this.value;
        refreshMap();
      }
      load();
    });
  });

  window.GridConcernKpis = {toggle: toggle, load: load};
})();
