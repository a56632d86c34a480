"""A standalone planner report: one HTML file (folium) with the choropleth, legend, station rings, heat
cells and the worst-first table, that opens from file:// on a machine with no network.

folium's asset lists point at our vendored files (``gridmap.apps.point_folium_at_local_assets``); for a
file that leaves the server those /static/ references are then inlined, so the report needs neither the
server nor a CDN. Its inputs are the dashboard's aggregates (``planning.metric_table``, ``heat_cells``),
already suppressed for planners: no household is in it.
"""

from __future__ import annotations

import html
import re

import folium
from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils.translation import gettext as _
from folium.plugins import HeatMap

RAMP = ["#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603"]
BAND = ["#e69f00", "#009e73", "#d55e00"]
NO_DATA = "#cfd8dc"


def palette(table: dict) -> list[str]:
    """The same colours as planner_dashboard.js: light = good, dark = bad."""
    if table["metric"] == "size_band":
        return BAND
    n = len(table["legend"])
    ramp = [RAMP[round(i * (len(RAMP) - 1) / max(n - 1, 1))] for i in range(n)]
    return ramp[::-1] if table["worse"] == "low" else ramp


def _fmt(value, unit="") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        value = f"{value:.1f}"
    elif isinstance(value, float):
        value = f"{value:.0f}"
    return f"{value} {unit}".strip()


def inline_static(page: str) -> str:
    """Replace <script src="/static/…"> and <link href="/static/…"> with the files' contents."""
    prefix = re.escape(settings.STATIC_URL)

    def read(path: str) -> str:
        found = finders.find(path)
        if not found:
            raise FileNotFoundError(path)
        with open(found, encoding="utf-8") as f:
            return f.read()

    def script(m):
        return "<script>" + read(m.group(1)).replace("</script", "<\\/script") + "</script>"

    def style(m):
        return "<style>" + read(m.group(1)).replace("</style", "<\\/style") + "</style>"

    page = re.sub(r'<script src="' + prefix + r'([^"]+)"></script>', script, page)
    return re.sub(r'<link rel="stylesheet" href="' + prefix + r'([^"]+)"\s*/?>', style, page)


def build_report(table: dict, grids_geojson: dict, stations_geojson: dict, heat_points: list, title: str) -> str:
    """The report's HTML; ``grids_geojson`` features carry the grid id as ``id`` (queries/layers.py)."""
    colours, rows = palette(table), {g["grid_id"]: g for g in table["grids"]}
    features = []
    for f in grids_geojson.get("features", []):
        g = rows.get(f["id"])
        if g is None:
            continue
        fill = NO_DATA if g["class"] is None else colours[g["class"]]
        features.append(
            {
                "type": "Feature",
                "geometry": f["geometry"],
                "properties": {  # folium's tooltip sets innerHTML: every text goes in escaped
                    "name": html.escape(g["name"]),
                    "code": html.escape(g["code"]),
                    "value": html.escape(_fmt(g["value"], table["unit"])),
                    "fill": fill,
                },
            }
        )
    fmap = folium.Map(tiles=None, control_scale=True, height="70%")
    if settings.LEAFLET_CONFIG.get("TILES"):
        name, url, options = settings.LEAFLET_CONFIG["TILES"][0]
        folium.TileLayer(
            tiles=url, attr=options.get("attribution") or str(name), name=str(name), max_zoom=options.get("maxZoom", 19)
        ).add_to(fmap)
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=html.escape(table["label"]),
        style_function=lambda f: {
            "color": "#37474f",
            "weight": 1,
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.75,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "code", "value"],
            aliases=[html.escape(t) for t in (_("网格"), _("网格代码"), table["label"])],
        ),
    )
    layer.add_to(fmap)
    stations = folium.FeatureGroup(name=html.escape(_("服务站及服务半径")))
    for s in stations_geojson.get("features", []):
        lon, lat = s["geometry"]["coordinates"]
        folium.Circle(
            [lat, lon], radius=s["properties"]["radius_m"], color="#6a3d9a", weight=1.5, fill=False, dash_array="4 3"
        ).add_to(stations)
        folium.CircleMarker(
            [lat, lon],
            radius=4,
            color="#6a3d9a",
            fill=True,
            fill_opacity=1,
            tooltip=html.escape(s["properties"]["name"]),
        ).add_to(stations)
    stations.add_to(fmap)
    # Coordinates rounded to 6 decimals (10 cm): shorter files, and no float tail that reads like a phone number.
    heat_points = [[round(p[0], 6), round(p[1], 6), *p[2:]] for p in heat_points]
    if heat_points:
        HeatMap(heat_points, name=html.escape(_("未覆盖住户")), radius=30, blur=20, min_opacity=0.3, show=False).add_to(
            fmap
        )
    folium.LayerControl(collapsed=False).add_to(fmap)
    if features:
        fmap.fit_bounds([[round(v, 6) for v in corner] for corner in layer.get_bounds()])
    legend = "".join(
        f'<div><span style="display:inline-block;width:14px;height:14px;background:{colours[e["class"]]};'
        f'border:1px solid #37474f;margin-right:6px"></span>{html.escape(e["label"])}</div>'
        for e in table["legend"]
    )
    ranking = "".join(
        f"<tr><td>{i}</td><td>{html.escape(g['name'])}</td><td>{html.escape(g['code'])}</td>"
        f"<td style='text-align:right'>{html.escape(_fmt(g['value'], table['unit']))}</td>"
        f"<td>{html.escape('；'.join(p['text'] for p in g['problems']))}</td></tr>"
        for i, g in enumerate(table["grids"], 1)
    )
    header = (
        f'<div id="report-head" style="position:absolute;z-index:1000;top:10px;left:60px;background:#fff;'
        f'padding:6px 10px;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);font:13px sans-serif">'
        f"<strong>{html.escape(title)} · {html.escape(table['label'])}</strong>{legend}</div>"
    )
    fmap.get_root().html.add_child(folium.Element(header))
    page = fmap.get_root().render()
    table_html = (
        f'<section id="report-table" style="font:13px sans-serif;padding:8px"><h2>{html.escape(_("网格排名（最差在前）"))}'
        f'</h2><table border="1" cellspacing="0" cellpadding="3"><thead><tr><th>#</th><th>{html.escape(_("网格"))}'
        f"</th><th>{html.escape(_('网格代码'))}</th><th>{html.escape(table['label'])}</th><th>{html.escape(_('问题'))}"
        f"</th></tr></thead><tbody>{ranking}</tbody></table></section>"
    )
    # No "Leaflet" link (and its flag) in the attribution: government users object to foreign flags.
    page = page.replace("</html>", f'<script>{fmap.get_name()}.attributionControl.setPrefix("");</script></html>', 1)
    page = page.replace("</body>", table_html + "</body>", 1)  # the map takes 70 % of the page, the table follows
    return _short_ids(inline_static(page))


def _short_ids(page: str) -> str:
    """folium names elements ``map_<uuid4 hex>``; renumber them ``map_1``, ``map_2``… so the file is the same
    for the same data, and no random run of digits can pass for an ID card number in the export."""
    ids: dict[str, str] = {}

    def short(match: re.Match) -> str:
        return match.group(1) + ids.setdefault(match.group(2), str(len(ids) + 1))

    return re.sub(r"\b([a-z_]+_)([0-9a-f]{32})(?![0-9a-f])", short, page)
