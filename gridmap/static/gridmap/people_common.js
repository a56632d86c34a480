/* Household tags shared by the grid leader's view and the staffing map: their names and colours.
 * Escaping, requests and translations are in core.js (GM). */
(function () {
  "use strict";
  var gettext = GM.gettext;

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

  window.GridPeople = {TAGS: TAGS, tagColour: tagColour};
})();
