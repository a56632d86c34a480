/* Street map: loads the GeoJSON layers the user's role may see and draws them on a django-leaflet map.
 * Strings go through Django's JavaScript catalogue (gettext), so the page follows the UI language. */
(function () {
  "use strict";
  var esc = GM.esc, gettext = GM.gettext, interpolate = GM.interpolate;
  // The layers by URL name; the template renders households and links only for roles that may see residents.
  var LAYERS = {communities: "layer-communities", grids: "layer-grids", stations: "layer-stations",
                households: "layer-households", links: "layer-links"};

  function bandColour(count, min, max) {
    if (count < min) { return "#e69f00"; }
    if (count > max) { return "#d55e00"; }
    return "#009e73";
  }

  function gridPopup(p, band) {
    var rows = [
      "<strong>" + esc(p.name) + "</strong>",
      gettext("网格代码") + "：" + esc(p.code),
      gettext("所属社区") + "：" + esc(p.community),
      gettext("住户数") + "：" + esc(p.households) + (p.households < band.min || p.households > band.max
        ? " <span class=\"warn\">" + esc(interpolate(gettext("超出 %(min)s–%(max)s 户"), band, true)) + "</span>" : ""),
      gettext("网格长") + "：" + (p.leader ? esc(p.leader) : "<span class=\"warn\">" + gettext("未配备") + "</span>"),
      gettext("专职网格员") + "：" + (p.workers.length ? p.workers.map(esc).join("、")
        : "<span class=\"warn\">" + gettext("未配备") + "</span>"),
      gettext("党员中心户") + "：" + esc(p.central_households)
    ];
    return "<div class=\"grid-card\">" + rows.join("<br>") + "</div>";
  }

  /* Grid labels without collisions: at each zoom and pan, labels are placed greedily (the grid with most
   * households first) and one that would overlap a placed label or a station symbol is left out; zoom in
   * and it appears. Sizes are estimated from the text (11 px CJK glyphs, 6.5 px digits), so no layout pass. */
  function labelBox(name, code) {
    var w = Math.max(String(name).length * 11, String(code).length * 6.5) + 8;
    return {w: w, h: 30};
  }

  function placeLabels(map, layer, candidates, obstacles) {
    var placed = [];
    function hits(b) {
      return placed.some(function (o) { return b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3]; });
    }
    obstacles.forEach(function (latlng) {
      var p = map.latLngToContainerPoint(latlng);
      placed.push([p.x - 13, p.y - 13, p.x + 13, p.y + 13]);
    });
    var size = map.getSize();
    candidates.forEach(function (c) {
      var p = map.latLngToContainerPoint(c.latlng);
      var b = [p.x - c.w / 2, p.y - c.h / 2, p.x + c.w / 2, p.y + c.h / 2];
      var inView = b[2] > 0 && b[0] < size.x && b[3] > 0 && b[1] < size.y;
      if (inView && !hits(b)) {
        placed.push(b);
        if (!layer.hasLayer(c.marker)) { layer.addLayer(c.marker); }
      } else if (layer.hasLayer(c.marker)) {
        layer.removeLayer(c.marker);
      }
    });
  }

  function householdStyle(p) {
    if (p.central) { return {radius: 6, color: "#7a0019", weight: 2, fillColor: "#d7191c", fillOpacity: 1}; }
    return {radius: 4, weight: p.vulnerable ? 2 : 1, color: p.vulnerable ? "#e66101" : "#335",
            fillColor: p.linked ? "#2b83ba" : "#9e9e9e", fillOpacity: 0.9};
  }

  function addLegend(map, band, withResidents) {
    var legend = L.control({position: "bottomright"});
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "legend");
      var items = [
        ["swatch", "#009e73", interpolate(gettext("网格 %(min)s–%(max)s 户"), band, true)],
        ["swatch", "#e69f00", interpolate(gettext("网格少于 %(min)s 户"), band, true)],
        ["swatch", "#d55e00", interpolate(gettext("网格多于 %(max)s 户"), band, true)],
        ["station", "#6a3d9a", gettext("服务站")],
        ["ring dashed", "#6a3d9a", gettext("服务半径")]
      ];
      if (withResidents) {
        items.push(["dot", "#d7191c", gettext("党员中心户")], ["dot", "#2b83ba", gettext("已联系住户")],
                   ["dot", "#9e9e9e", gettext("未联系住户")], ["dot vulnerable", "#9e9e9e", gettext("困难户（橙色外圈）")],
                   ["line", "#d7191c", gettext("中心户联系线")], ["cluster", "#3f51b5", gettext("住户聚合（数字为户数）")]);
      }
      // A <details> box: open on a desktop, folded on a phone so the map stays visible.
      div.innerHTML = "<details" + (window.innerWidth < 700 ? "" : " open") + "><summary>" + gettext("图例") +
        "</summary>" + items.map(function (i) {
          return "<div><span class=\"key " + esc(i[0]) + "\" style=\"--c:" + esc(i[1]) + "\"></span>" + esc(i[2]) + "</div>";
        }).join("") + "</details>";
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    legend.addTo(map);
  }

  function init(map) {
    var root = document.getElementById("map-root");
    var status = document.getElementById("map-status");
    var band = {min: Number(root.dataset.bandMin), max: Number(root.dataset.bandMax)};
    var control = L.control.layers(null, null, {collapsed: window.innerWidth < 700}).addTo(map);
    var labels = L.layerGroup(), labelCandidates = [], stationPoints = [];
    map.createPane("stations").style.zIndex = 650;  // station symbols above the household clusters (600)
    var names = Object.keys(LAYERS).filter(function (k) { return GM.hasUrl(LAYERS[k]); });

    Promise.all(names.map(function (k) { return GM.api(GM.url(LAYERS[k])); })).then(function (results) {
      var data = {};
      names.forEach(function (k, i) { data[k] = results[i]; });

      var communities = L.geoJSON(data.communities, {
        style: {color: "#283593", weight: 3, fill: false, dashArray: "6 4"},
        interactive: false
      }).addTo(map);
      control.addOverlay(communities, gettext("社区边界"));

      var grids = L.geoJSON(data.grids, {
        style: function (f) {
          return {color: "#37474f", weight: 1, fillColor: bandColour(f.properties.households, band.min, band.max),
                  fillOpacity: 0.25, className: "grid-polygon"};
        },
        onEachFeature: function (f, layer) {
          layer.bindPopup(gridPopup(f.properties, band));
          var c = f.properties.label_point, box = labelBox(f.properties.name, f.properties.code);
          labelCandidates.push({latlng: L.latLng(c[1], c[0]), w: box.w, h: box.h, households: f.properties.households,
            marker: L.marker([c[1], c[0]], {icon: L.divIcon({className: "grid-label", iconSize: [box.w, box.h],
              iconAnchor: [box.w / 2, box.h / 2],
              html: esc(f.properties.name) + "<br><small>" + esc(f.properties.code) + "</small>"}),
              interactive: false, keyboard: false})});
        }
      }).addTo(map);
      control.addOverlay(grids, gettext("网格"));
      control.addOverlay(labels, gettext("网格名称与代码"));
      var links = null;
      if (data.links) {
        links = L.geoJSON(data.links, {style: {color: "#d7191c", weight: 1, opacity: 0.7}, interactive: false});
        control.addOverlay(links, gettext("中心户联系线"));
      }
      labelCandidates.sort(function (a, b) { return b.households - a.households; });
      // Labels and link lines only where they can be read; the layer control still toggles them. Labels are
      // thinned so none overlaps another or a station (placeLabels), again after every zoom and pan.
      var byZoom = function () {
        var near = map.getZoom() >= 15;
        [labels, links].forEach(function (layer) {
          if (!layer) { return; }
          if (near) { layer.addTo(map); } else { map.removeLayer(layer); }
        });
        if (near) { placeLabels(map, labels, labelCandidates, stationPoints); }
      };
      map.on("zoomend moveend", byZoom);
      if (data.households) {
        var cluster = L.markerClusterGroup({chunkedLoading: true, disableClusteringAtZoom: 17,
                                            maxClusterRadius: 50});
        L.geoJSON(data.households, {
          pointToLayer: function (f, latlng) { return L.circleMarker(latlng, householdStyle(f.properties)); },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            layer.bindPopup("<strong>" + esc(p.address) + "</strong><br>" + gettext("户主") + "：" + esc(p.head_name) +
              "<br>" + gettext("人数") + "：" + esc(p.residents) + "<br>" +
              (p.central ? gettext("党员中心户") : (p.linked ? gettext("已联系中心户") : gettext("未联系中心户"))));
          }
        }).eachLayer(function (l) { cluster.addLayer(l); });
        cluster.addTo(map);
        control.addOverlay(cluster, interpolate(gettext("住户（%(n)s 户）"), {n: data.households.features.length}, true));
      }

      var stations = L.layerGroup();
      L.geoJSON(data.stations, {
        pointToLayer: function (f, latlng) {
          var p = f.properties;
          stationPoints.push(latlng);
          // Outlined, not filled: a dozen overlapping discs would wash the map grey.
          L.circle(latlng, {radius: p.radius_m, color: "#6a3d9a", weight: 1.5, fill: false, dashArray: "5 4",
                            interactive: false}).addTo(stations);
          return L.marker(latlng, {icon: L.divIcon({className: "station-icon", html: esc(gettext("站")), iconSize: [22, 22]}),
                                   title: p.name, pane: "stations"});
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindPopup("<strong>" + esc(p.name) + "</strong><br>" + gettext("服务半径") + "：" + esc(p.radius_m) +
            " " + gettext("米") + "<br>" + gettext("开放时间") + "：" + esc(p.opening_hours) + "<br>" + gettext("服务项目") + "：" +
            esc(p.services));
        }
      }).eachLayer(function (l) { stations.addLayer(l); });
      stations.addTo(map);
      control.addOverlay(stations, gettext("服务站"));

      addLegend(map, band, Boolean(data.households));
      var bounds = grids.getBounds();  // the user's own grids: a leader lands on his grid
      if (!bounds.isValid()) { bounds = communities.getBounds(); }
      map.options.zoomSnap = 0.25;
      if (bounds.isValid()) { map.fitBounds(bounds, {padding: [10, 10]}); }
      byZoom();
      root.dataset.loaded = "true";
      status.textContent = interpolate(gettext("已加载 %(grids)s 个网格"), {grids: data.grids.features.length}, true);
      status.classList.add("done");
    }).catch(function (err) {
      status.textContent = gettext("地图数据加载失败") + "：" + (err.message || GM.refusalText(err));
      status.classList.add("error");
    });
  }

  window.GridMap = {init: init};
  window.GMLabels = {box: labelBox, place: placeLabels};  // reused by the grid editor (grid_editor_feedback.js)
})();
