/* The public intake page (/r/<token>/, issue #17 item 6): a resident picks a point inside the community on the
 * map (or by GPS), fills the form and sends it with its CSRF token; the answer is a receipt number or a refusal
 * naming the field. No outside request: the map draws the community's outline only (no tiles needed).
 */
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form || !window.L) { return; }
  var box = document.getElementById("intake-map");
  var outline = JSON.parse(box.dataset.outline || "null");
  var picked = document.getElementById("picked");
  var lon = document.getElementById("lon");
  var lat = document.getElementById("lat");
  var map = L.map(box, {zoomControl: true, attributionControl: false});
  box.leafletMap = map;  // for tests: the page holds no global
  var STYLE = {  // as reference_layers.js draws them on the staff maps
    water: {color: "#5b9bd5", weight: 1, fillColor: "#c9def2", fillOpacity: 0.9},
    road: {color: "#c8c8c8", weight: 4, opacity: 1, lineCap: "butt"},
    compound: {color: "#a1887f", weight: 1, dashArray: "3 3", fillColor: "#f3eeea", fillOpacity: 0.7},
    building: {color: "#b8a79f", weight: 0.5, fillColor: "#ddd3cd", fillOpacity: 0.9}
  };
  var reference = JSON.parse(box.dataset.reference || "null");
  if (reference) {
    L.geoJSON(reference, {interactive: false, style: function (f) { return STYLE[f.properties.kind] || STYLE.road; }})
      .addTo(map);
  }
  var area = outline ? L.geoJSON(outline, {interactive: false, style: {color: "#c0392b", weight: 2, fillOpacity: 0.04}}).addTo(map) : null;
  if (area) { map.fitBounds(area.getBounds(), {padding: [8, 8]}); } else { map.setView([39.9, 116.4], 13); }
  var marker = null;

  function inRing(x, y, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { inside = !inside; }
    }
    return inside;
  }
  function inside(x, y) {
    if (!outline) { return true; }
    var polys = outline.type === "MultiPolygon" ? outline.coordinates : [outline.coordinates];
    return polys.some(function (p) {
      return inRing(x, y, p[0]) && !p.slice(1).some(function (hole) { return inRing(x, y, hole); });
    });
  }
  function showError(field, text) {
    var slot = form.querySelector('.field-error[data-for="' + field + '"]') || form.querySelector(".form-error");
    slot.textContent = text;
  }
  function clearErrors() {
    form.querySelectorAll(".field-error, .form-error").forEach(function (p) { p.textContent = ""; });
  }
  function pick(latlng) {
    clearErrors();
    if (!inside(latlng.lng, latlng.lat)) { showError("location", form.dataset.outside); return; }
    if (marker) { marker.setLatLng(latlng); } else {
      marker = L.circleMarker(latlng, {radius: 9, color: "#1f6feb", weight: 3, fillOpacity: 0.6}).addTo(map);
    }
    lon.value = latlng.lng.toFixed(6);
    lat.value = latlng.lat.toFixed(6);
    picked.textContent = form.dataset.picked + " " + lat.value + ", " + lon.value;
  }
  map.on("click", function (e) { pick(e.latlng); });
  document.getElementById("use-gps").addEventListener("click", function () {
    if (!navigator.geolocation) { showError("location", form.dataset.nogps); return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      var here = L.latLng(p.coords.latitude, p.coords.longitude);
      pick(here);
      map.setView(here, Math.max(map.getZoom(), 16));
    }, function () { showError("location", form.dataset.nogps); }, {enableHighAccuracy: true, timeout: 10000});
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearErrors();
    var button = form.querySelector("button[type=submit]");
    var label = button.textContent;
    button.disabled = true;
    button.textContent = form.dataset.sending;
    fetch(window.location.pathname, {method: "POST", body: new FormData(form), credentials: "same-origin",
                                     headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
      .then(function (answer) {
        if (answer.ok) {
          form.hidden = true;
          document.getElementById("receipt-number").textContent = answer.body.receipt;
          document.getElementById("receipt").hidden = false;
          window.scrollTo(0, 0);
        } else {
          showError(answer.body.field || "", answer.body.detail || form.dataset.failed);
        }
      })
      .catch(function () { showError("", form.dataset.failed); })
      .finally(function () { button.disabled = false; button.textContent = label; });
  });
}());
