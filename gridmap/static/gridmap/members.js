/* The member registry page: search (name, 拼音首字母, phone digits) through the members API, register one
 * member, and the all-or-nothing XLSX import with its row error report. No inline handlers (CSP). */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  var root = document.getElementById("members-root");
  if (!root) { return; }
  var state = {page: 1, q: "", timer: null, communities: {}, seq: 0};

  Array.prototype.forEach.call(document.querySelectorAll("#member-community option"), function (o) {
    state.communities[o.value] = o.textContent;
  });

  function search(page) {
    state.page = page || 1;
    state.q = document.getElementById("member-q").value.trim();
    var params = new URLSearchParams({q: state.q, page: String(state.page)});
    if (document.getElementById("member-free").checked) { params.set("unassigned", "1"); }
    var status = document.getElementById("member-status");
    status.textContent = gettext("正在搜索…");
    status.classList.remove("error");
    var seq = ++state.seq;
    GM.api(GM.url("members") + "?" + params.toString()).then(function (data) {
      if (seq !== state.seq) { return; }  // a later search has been sent: this answer is stale
      var rows = data.results;
      document.getElementById("member-rows").innerHTML = rows.map(function (m) {
        return "<tr data-member=\"" + esc(m.id) + "\"><td>" + esc(m.name) + "</td><td>" + esc(m.initials) + "</td><td>" +
          esc(m.phone || "—") + "</td><td>" + (m.is_party_member ? gettext("是") : gettext("否")) + "</td><td>" +
          esc(m.employer || "—") + "</td><td>" + esc(state.communities[m.community_id] || "—") + "</td></tr>";
      }).join("");
      status.textContent = rows.length ? interpolate(gettext("第 %(page)s 页，本页 %(n)s 人"),
        {page: state.page, n: rows.length}, true) : gettext("没有找到人员");
      document.getElementById("member-page").textContent = String(state.page);
      document.getElementById("member-prev").disabled = state.page <= 1;
      document.getElementById("member-next").disabled = !data.has_more;
      root.dataset.searched = state.q;
    }, function (err) {
      if (seq !== state.seq) { return; }
      status.textContent = GM.refusalText(err);
      status.classList.add("error");
    });
  }

  function setMsg(id, text, ok) {
    var el = document.getElementById(id);
    el.textContent = text;
    el.className = "msg " + (ok ? "ok" : "error");
  }

  function onAdd(e) {
    e.preventDefault();
    var f = e.target;
    var body = {name: f.name.value.trim(), phone: f.phone.value.trim(), is_party_member: f.is_party_member.checked,
                employer: f.employer.value.trim(), community: Number(f.community.value)};
    GM.api(GM.url("members"), {method: "POST", body: body}).then(function (data) {
      setMsg("add-msg", interpolate(gettext("已登记：%(name)s"), {name: data.name}, true), true);
      f.reset();
      document.getElementById("member-q").value = data.name;
      search(1);
    }, function (err) { setMsg("add-msg", GM.refusalText(err), false); });
  }

  function onImport(e) {
    e.preventDefault();
    var file = document.getElementById("import-file").files[0];
    var table = document.getElementById("import-errors");
    table.hidden = true;
    if (!file) { setMsg("import-msg", gettext("请选择 XLSX 文件"), false); return; }
    var data = new FormData();
    data.append("file", file);
    setMsg("import-msg", gettext("正在导入…"), true);
    GM.api(GM.url("members-import"), {method: "POST", body: data}).then(function (reply) {
      setMsg("import-msg", interpolate(gettext("已导入 %(n)s 人"), {n: reply.imported}, true), true);
      search(1);
    }, function (err) {
        var errors = err.errors || [];
        setMsg("import-msg", errors.length ? interpolate(gettext("文件有 %(n)s 处错误，未导入任何行"), {n: errors.length}, true)
          : GM.refusalText(err), false);
        if (errors.length) {
          table.querySelector("tbody").innerHTML = errors.map(function (x) {
            return "<tr><td>" + esc(x.row) + "</td><td>" + esc(x.column) + "</td><td>" + esc(x.detail || x.code) + "</td></tr>";
          }).join("");
          table.hidden = false;
        }
      });
  }

  document.getElementById("member-search").addEventListener("submit", function (e) { e.preventDefault(); search(1); });
  document.getElementById("member-q").addEventListener("input", function () {
    clearTimeout(state.timer);
    state.timer = setTimeout(function () { search(1); }, 300);
  });
  document.getElementById("member-free").addEventListener("change", function () { search(1); });
  document.getElementById("member-prev").addEventListener("click", function () { search(state.page - 1); });
  document.getElementById("member-next").addEventListener("click", function () { search(state.page + 1); });
  document.getElementById("member-add").addEventListener("submit", onAdd);
  document.getElementById("member-import").addEventListener("submit", onImport);
  search(1);
})();
