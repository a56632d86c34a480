/* Helpers shared by the grid leader's view and the staffing map: escaping, JSON requests with the CSRF
 * token, tag names. Strings go through Django's JavaScript catalogue (gettext). */
(function () {
  "use strict";
  var gettext = window.gettext || function (s) { return s; };

  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* fetch JSON; resolves {ok, status, data} so callers can show a refusal's reason. */
  function api(method, url, body) {
    var options = {method: method, credentials: "same-origin",
                   headers: {"Accept": "application/json", "X-CSRFToken": csrf()}};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return {ok: r.ok, status: r.status, data: data};
      });
    });
  }

  var TAGS = {
    is_party_member: [gettext("党员户"), "#c62828"], elderly_alone: [gettext("独居老人"), "#ef6c00"],
    disabled: [gettext("残疾"), "#6a1b9a"], low_income: [gettext("低保"), "#00838f"],
    hardship: [gettext("特困"), "#ad1457"], military: [gettext("军属/优抚"), "#2e7d32"],
    other_difficulty: [gettext("其他困难"), "#795548"]
  };

  function tagColour(tags) {
    for (var i = 0; i < tags.length; i++) {
      if (tags[i] !== "is_party_member" && TAGS[tags[i]]) { return TAGS[tags[i]][1]; }
    }
    return tags.indexOf("is_party_member") >= 0 ? TAGS.is_party_member[1] : "#78909c";
  }

  function refusal(result) {
    var d = result.data || {};
    return (d.detail || d.code || result.status) + (d.field ? " (" + d.field + ")" : "");
  }

  window.GridPeople = {esc: esc, api: api, TAGS: TAGS, tagColour: tagColour, refusal: refusal, gettext: gettext};
})();
