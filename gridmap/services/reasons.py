"""The one reason catalogue: every refusal code the application answers, with its translated message.

:class:`gridmap.services.refused.Refused` fills its ``detail`` from here when the raiser gives none, the
grid editor, the layer and household imports, the admin form and the REST API all read the same table.
GEOS may name a validity problem this table does not know (GEOS 3.14 says "Holes are nested"): such a
code is answered as ``invalid_geometry``, a translated generic reason carrying GEOS's own words.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

REASONS = {
    "too_large": gettext_lazy("数据过大"),
    "too_deep": gettext_lazy("JSON 嵌套过深"),
    "malformed_json": gettext_lazy("不是有效的 JSON"),
    "not_an_object": gettext_lazy("应为 GeoJSON 对象"),
    "geometry_type": gettext_lazy("只接受 Polygon 或 MultiPolygon 面"),
    "not_a_point": gettext_lazy("位置应为 GeoJSON Point"),
    "bad_coordinates": gettext_lazy("坐标结构不正确"),
    "bad_position": gettext_lazy("坐标点应为 [经度, 纬度]"),
    "not_a_number": gettext_lazy("坐标含有非数字或非有限数值"),
    "too_many_vertices": gettext_lazy("顶点过多"),
    "empty": gettext_lazy("几何为空"),
    "clip_leaves_nothing": gettext_lazy("裁剪后没有剩下任何面积"),
    "clip_leaves_sliver": gettext_lazy("裁剪后只剩一条碎片，不能成为网格"),
    "clip_leaves_no_households": gettext_lazy("裁剪后的网格里没有住户"),
    "ring_too_few_positions": gettext_lazy("环至少需要 4 个坐标点"),
    "ring_not_closed": gettext_lazy("环未闭合（首尾坐标不同）"),
    "out_of_range": gettext_lazy("经纬度超出范围"),
    "looks_projected": gettext_lazy("坐标像是投影坐标（米），请转换为 WGS84 经纬度"),
    "crs_not_wgs84": gettext_lazy("只接受 WGS84 经纬度（RFC 7946，不带 crs）"),
    "zero_area": gettext_lazy("面积为零"),
    "self_intersection": gettext_lazy("自相交"),
    "ring_self_intersection": gettext_lazy("环自相交"),
    "hole_lies_outside_shell": gettext_lazy("内环（洞）在外环之外"),
    "nested_holes": gettext_lazy("内环嵌套"),
    "nested_shells": gettext_lazy("外环嵌套"),
    "interior_is_disconnected": gettext_lazy("内部不连通"),
    "duplicate_rings": gettext_lazy("重复的环"),
    "too_few_points_in_geometry_component": gettext_lazy("坐标点过少"),
    "far_from_street": gettext_lazy("位置远离本街道（超出街道范围 1 公里）"),
    "outside_community": gettext_lazy("超出所属社区边界"),
    "overlaps_siblings": gettext_lazy("与相邻网格重叠"),
    "overlaps_streets": gettext_lazy("与相邻街道重叠"),
    "overlaps_communities": gettext_lazy("与相邻社区重叠"),
    "bad_line": gettext_lazy("分割线应为至少两个点的 LineString"),
    "line_does_not_split": gettext_lazy("分割线没有把网格分成两部分"),
    "not_adjacent": gettext_lazy("两个网格不相邻"),
    "stale_version": gettext_lazy("该网格已被他人修改"),
    "retired": gettext_lazy("网格已撤销"),
    "topology_not_clean": gettext_lazy("社区网格存在缝隙或重叠"),
    "reason_required": gettext_lazy("强制发布需要填写原因"),
    "nothing_to_publish": gettext_lazy("没有待发布的修改"),
    "forbidden": gettext_lazy("无权执行此操作"),
    "too_many_features": gettext_lazy("文件中的要素过多"),
    "unreadable_file": gettext_lazy("文件无法读取"),
    "driver_mismatch": gettext_lazy("文件内容与其格式不符（例如 Esri JSON 冒充 GeoJSON）"),
    "no_features": gettext_lazy("文件中没有要素"),
    "unsupported_format": gettext_lazy("只接受 GeoJSON、GeoPackage、Shapefile（zip）或 KML 文件"),
    "xml_entities": gettext_lazy("KML 文件不得包含 DOCTYPE 或实体声明"),
    "zip_too_many_entries": gettext_lazy("压缩包中的文件过多"),
    "zip_bomb": gettext_lazy("压缩包解压后过大或压缩比异常，已拒绝（未解压）"),
    "zip_unsafe_entry": gettext_lazy("压缩包中有不安全的路径"),
    "empty_file": gettext_lazy("文件是空的"),
    "not_xlsx": gettext_lazy("文件不是有效的 XLSX 工作簿（扩展名或文件头不符）"),
    "unsupported_type": gettext_lazy("不支持的文件类型：请上传 CSV 或 XLSX"),
    "bad_encoding": gettext_lazy("文件编码无法识别（请用 UTF-8 或 GBK 保存）"),
    "utf16_without_bom": gettext_lazy("文件像是没有 BOM 的 UTF-16：请另存为 UTF-8 或 GBK 的 CSV"),
    "malformed_csv": gettext_lazy("CSV 格式错误"),
    "no_rows": gettext_lazy("文件只有表头，没有数据行"),
    "no_header": gettext_lazy("工作表第一行没有表头"),
    "ragged": gettext_lazy("有单元格超出表头的列"),
    "zip_several_shapefiles": gettext_lazy("压缩包中只能有一个 Shapefile"),
    "shapefile_part_missing": gettext_lazy("Shapefile 缺少组成文件"),
    "unknown_crs": gettext_lazy("无法识别的坐标系"),
    "crs_required": gettext_lazy("文件没有坐标系信息，请指定坐标系"),
    "not_found": gettext_lazy("不存在或不在您的管辖范围内"),
    "nul_byte": gettext_lazy("含有 NUL 字符"),
    "lone_surrogate": gettext_lazy("含有无法保存的字符（不成对的 UTF-16 代理项）"),
    "control_character": gettext_lazy("含有控制字符"),
    "bidi_control": gettext_lazy("含有零宽或双向控制字符"),
    "too_long": gettext_lazy("内容过长"),
    "required": gettext_lazy("必填"),
    "code_format": gettext_lazy("代码格式不正确"),
    "code_village_part": gettext_lazy("社区代码的村级部分应为 001–399"),
    "street_not_in_scope": gettext_lazy("所属街道不存在或不在您的管辖范围内"),
    "community_not_in_scope": gettext_lazy("社区不存在或不在您的管辖范围内"),
    "outside_scope": gettext_lazy("位置不在您管辖的任何社区内"),
    "outside_street": gettext_lazy("超出所属街道边界"),
    "duplicate_code": gettext_lazy("文件中代码重复"),
    "duplicate_name": gettext_lazy("文件中同一社区的名称重复"),
    "children_outside": gettext_lazy("修改后的边界不再包含其下属区域"),
    "bad_kind": gettext_lazy("类型无法识别"),
    "bad_number": gettext_lazy("应为 1 到 20000 之间的整数"),
    "bad_boolean": gettext_lazy("应为 是/否"),
    "mixed_geometry_types": gettext_lazy("文件中混有不同类型的几何"),
    "encoding_required": gettext_lazy("Shapefile 没有 .cpg 且不是 UTF-8 编码（可能是 GBK），请指定编码"),
    "unknown_encoding": gettext_lazy("无法识别的编码"),
    "encoding_mismatch": gettext_lazy("文件内容与所指定的编码不符"),
    "column_missing": gettext_lazy("缺少必需的列"),
    "unknown_layer": gettext_lazy("不支持的图层"),
    "unsupported_media_type": gettext_lazy("请以 multipart/form-data 上传文件"),
    "invalid_geometry": gettext_lazy("几何无效"),
    "login_required": gettext_lazy("需要登录"),
    "method_not_allowed": gettext_lazy("不支持此请求方法"),
    "not_acceptable": gettext_lazy("无法提供所请求的格式"),
    "throttled": gettext_lazy("请求过于频繁，请稍后重试"),
    "bad_request": gettext_lazy("请求无效"),
    "bad_value": gettext_lazy("值不正确"),
    "unknown_field": gettext_lazy("不认识的字段"),
    "not_a_list": gettext_lazy("应为列表"),
    "precondition_required": gettext_lazy("需要 If-Match（上次读取的 ETag）"),
    "precondition_failed": gettext_lazy("该对象已被他人修改，请重新读取后再保存"),
    "server_error": gettext_lazy("服务器内部错误，已记录，请稍后重试"),
    "database_unavailable": gettext_lazy("数据库暂时不可用，请稍后重试"),
}


def known(code: str) -> bool:
    return code in REASONS


def reason(code: str, note: str = "", location: tuple[float, float] | None = None) -> str:
    """The readable reason for ``code``, with the place (lon lat) and a short note such as a limit."""
    text = str(REASONS.get(code) or REASONS["bad_request"])
    if location:
        text += _("，位置 %(lon).6f %(lat).6f") % {"lon": location[0], "lat": location[1]}
    if note:
        text += f"（{note}）"
    return text
