/* The one core every page script uses (issue #14): escaping, JSON requests with the CSRF token and If-Match,
 * one way to show the server's refusal (in the page's data-gm-refusal element, else a banner), translations from Django's JavaScript catalogue, number formatting and
 * URLs by name. Loaded from the base template before every page script; no inline handlers (CSP).
 *
 * URLs: each page template renders the URLs its script needs with {% url %} into
 * <script type="application/json" id="gm-urls">{"name": "/path/0/…"}</script>; ids are rendered as 0 and
 * url(name, id, …) puts the arguments in place of the 0 path segments, in order. Paths may move (a new API version);
 * names stay. */
(function () {
  "use strict";
  var ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};

  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
      return ENTITIES[c];
    });
  }

  /* The catalogue (jsi18n) may load after this file, so every lookup asks for it when it is called. */
  function gettext(s) { return window.gettext ? window.gettext(s) : s; }
  function ngettext(one, many, n) {
    return window.ngettext ? window.ngettext(one, many, n) : (n === 1 ? one : many);
  }
  function interpolate(fmt, obj, named) {
    if (window.interpolate) { return window.interpolate(fmt, obj, named); }
    return fmt.replace(/%\((\w+)\)s/g, function (_, k) { return obj[k]; });
  }
  /* gettext, then the named values: t("%(n)s 户", {n: 3}). */
  function t(text, values) { return values ? interpolate(gettext(text), values, true) : gettext(text); }

  /* A figure as the planner pages show it: "—" when missing, one decimal when not whole, then its unit. */
  function fmt(value, unit) {
    if (value === null || value === undefined) { return "—"; }
    if (typeof value === "number" && !Number.isInteger(value)) { value = value.toFixed(1); }
    return String(value) + (unit ? " " + unit : "");
  }

  /* A moment as people read it: in the page's language (not the phone's) and to the minute, a deadline to the
   * second being noise. zh-hans: 2026年12月4日 14:05; en: Dec 4, 2026, 2:05 PM. */
  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return ""; }
    return d.toLocaleString(document.documentElement.lang || undefined, {dateStyle: "medium", timeStyle: "short"});
  }

  var urls = null;
  function url(name) {
    if (!urls) {
      var block = document.getElementById("gm-urls");
      urls = block ? JSON.parse(block.textContent) : {};
    }
    if (!(name in urls)) { throw new Error("GM.url: no URL named " + name + " on this page (gm-urls)"); }
    var args = Array.prototype.slice.call(arguments, 1), i = 0;
    return urls[name].replace(/(^|[\/.])0(?=[\/.]|$)/g, function (all, lead) {
      return i < args.length ? lead + encodeURIComponent(args[i++]) : all;
    });
  }

  /* Whether the page rendered this URL (some layers only for roles that may see them). */
  function hasUrl(name) { try { url(name); return true; } catch (e) { return false; } }

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) { return input.value; }
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  /* Generic texts for refusals without a detail, by the server's code (literal gettext calls, so the
   * message extraction finds them). */
  function codeText(code) {
    switch (code) {
      case "precondition_failed": return gettext("数据已被他人修改，已重新加载，请核对后再试");
      case "precondition_required": return gettext("缺少版本信息（If-Match），请刷新页面后再试");
      case "forbidden": return gettext("没有权限执行此操作");
      case "not_found": return gettext("对象不存在或已被删除");
      case "invalid": return gettext("输入不正确");
      case "network": return gettext("网络连接失败，请稍后再试");
      default: return "";
    }
  }

  /* The page's refusal place: an element marked data-gm-refusal in the template, or a banner fixed at the top. */
  function refusalBox() {
    var box = document.querySelector("[data-gm-refusal]") || document.getElementById("gm-refusal");
    if (box) { return box; }
    box = document.createElement("div");
    box.id = "gm-refusal";
    box.className = "gm-refusal";
    box.setAttribute("role", "alert");
    box.appendChild(document.createElement("span"));
    var close = document.createElement("button");
    close.type = "button";
    close.className = "gm-refusal-close";
    close.setAttribute("aria-label", gettext("关闭"));
    close.textContent = "×";
    close.addEventListener("click", function () { box.hidden = true; });
    box.appendChild(close);
    document.body.appendChild(box);
    return box;
  }

  /* The server's refusal ({code, field, detail, ...}) as one sentence naming the field. */
  function refusalText(body) {
    var b = body || {};
    var text = b.detail || codeText(b.code) ||
      interpolate(gettext("操作未完成（%(status)s）"), {status: b.http || b.code || "?"}, true);
    return b.field ? interpolate(gettext("%(text)s（字段：%(field)s）"), {text: text, field: b.field}, true) : text;
  }

  /* One place per page: #gm-refusal (made at the top of <main> when the template has none). */
  function showRefusal(body) {
    var box = refusalBox();
    var target = box.id === "gm-refusal" ? box.querySelector("span") : box;
    target.textContent = refusalText(body);
    box.classList.add("error");
    box.hidden = false;
    box.dataset.code = (body && body.code) || "";
  }
  function clearRefusal() {
    var box = document.getElementById("gm-refusal");
    if (box) { box.hidden = true; }
  }

  /* fetch JSON. opts: method (GET), body (sent as JSON unless FormData), ifMatch (the object's etag),
   * quiet (do not show the refusal). Resolves with the parsed reply; on any non-2xx shows the refusal and
   * rejects with the server's body plus its HTTP status as "http", so callers can react (412: reload the object). */
  function api(target, opts) {
    var o = opts || {};
    var headers = {"Accept": "application/json", "X-CSRFToken": csrf()};
    var init = {method: o.method || "GET", credentials: "same-origin", headers: headers};
    if (o.body !== undefined) {
      if (window.FormData && o.body instanceof window.FormData) { init.body = o.body; }
      else { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(o.body); }
    }
    if (o.ifMatch) { headers["If-Match"] = o.ifMatch; }
    function refuse(body) {
      if (!o.quiet) { showRefusal(body); }
      return Promise.reject(body);
    }
    return fetch(target, init).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = r.ok ? text : {detail: ""}; }
        if (r.ok) { return data; }
        var body = data && typeof data === "object" ? data : {};
        body.http = r.status;  // not "status": a refused import job has its own status field
        return refuse(body);
      });
    }, function (err) {
      return refuse({code: "network", http: 0, detail: codeText("network") + " (" + err.message + ")"});
    });
  }

  /* The If-Match value of an object the page read: its etag, or for grids the quoted version. */
  function etagOf(obj) {
    if (!obj) { return undefined; }
    if (obj.etag) { return obj.etag; }
    return obj.version !== undefined && obj.version !== null ? "\"" + obj.version + "\"" : undefined;
  }

  window.GM = {esc: esc, api: api, csrf: csrf, t: t, gettext: gettext, ngettext: ngettext, interpolate: interpolate,
               fmt: fmt, when: when, url: url, hasUrl: hasUrl, showRefusal: showRefusal, clearRefusal: clearRefusal,
               refusalText: refusalText, etagOf: etagOf};
})();
