"""The OpenAPI schema's share of the one write API: the If-Match parameter and its answers for the DRF
views, and the JSON endpoints of the pages (api/jsonapi.endpoint) added to the same schema from what each
declares (methods, guarded writes, path parameters, first docstring line), so /api/docs/ lists every
write with its concurrency rule. Registered in settings.SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"].
"""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The object's ETag as last read (the ETag header of its GET, or its etag property)",
)
PRECONDITION = {
    412: OpenApiResponse(description="Stale: the object changed since it was read; the body has its current state"),
    428: OpenApiResponse(description="If-Match is missing"),
}

_REFUSAL = {
    "type": "object",
    "description": "Every refusal: the code, the field at fault and a readable, translated reason",
    "properties": {
        "code": {"type": "string"},
        "field": {"type": "string"},
        "detail": {"type": "string"},
        "location": {"type": "array", "items": {"type": "number"}, "description": "lon, lat of the fault"},
    },
    "required": ["code", "field", "detail"],
}
_REFUSED = {
    "description": "Refused",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Refusal"}}},
}


def routes(resolver: URLResolver | None = None, prefix: str = ""):
    """(route, pattern) of every URL pattern but the admin's, the route as written (``api/v1/grids/<int:pk>/…``)."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith("admin/"):
                yield from routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route.lstrip("^").rstrip("$"), pattern


def json_endpoints():
    """The routes served by api/jsonapi.endpoint (they carry what they declare)."""
    return [(route, pattern) for route, pattern in routes() if hasattr(pattern.callback, "allowed")]


def _operation(view, method: str, name: str, params: list[dict]) -> dict:
    doc = " ".join((view.__doc__ or "").strip().split("\n\n")[0].split()) or name  # the first paragraph
    responses = {"200": {"description": "OK (JSON)"}, "4XX": _REFUSED}
    parameters = list(params)
    if method in view.creates:
        responses["201"] = {"description": "Created"}
    if method in view.guards:
        parameters.append({"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"},
                           "description": IF_MATCH.description})  # fmt: skip
        responses.update({str(status): {"description": r.description} for status, r in PRECONDITION.items()})
    operation = {"operationId": f"{name}_{method.lower()}", "summary": doc, "tags": ["pages"],
                 "parameters": parameters, "responses": responses}  # fmt: skip
    if method != "GET":
        body = {"type": "object"}
        kinds = ("multipart/form-data",) if "import" in name else ("application/json",)
        operation["requestBody"] = {"content": {kind: {"schema": body} for kind in kinds}}
    return operation


def page_api_paths(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the JSON endpoints and the one refusal shape."""
    result.setdefault("components", {}).setdefault("schemas", {})["Refusal"] = _REFUSAL
    for route, pattern in json_endpoints():
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in re.findall(r"<(?:\w+:)?(\w+)>", route)]  # fmt: skip
        operations = result.setdefault("paths", {}).setdefault(path, {})
        for method in sorted(pattern.callback.allowed):
            operations.setdefault(method.lower(), _operation(pattern.callback, method, pattern.name, params))
    return result
