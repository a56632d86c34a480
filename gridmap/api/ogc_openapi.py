"""The OpenAPI 3.0 definition of the OGC API – Features endpoints (conformance class "oas30").

Written out rather than generated: the OGC resources are a fixed, standard shape that drf-spectacular
would describe less precisely than this, and clients (GDAL) read the ``limit`` bounds from here.
"""

from __future__ import annotations

_JSON = {"application/json": {"schema": {"type": "object"}}}
_GEOJSON = {"application/geo+json": {"schema": {"type": "object"}}}
_ERRORS = {
    "400": {"description": "Bad parameter", "content": _JSON},
    "401": {"description": "Not authenticated", "content": _JSON},
    "403": {"description": "No role", "content": _JSON},
    "404": {"description": "Not found or out of scope", "content": _JSON},
}


def _get(summary: str, content: dict, parameters: list | None = None) -> dict:
    return {
        "get": {
            "summary": summary,
            "parameters": parameters or [],
            "responses": {"200": {"description": summary, "content": content}, **_ERRORS},
        }
    }


def document(base: str, collections: list[str], limit_default: int, limit_max: int) -> dict:
    collection = {
        "name": "collectionId",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": collections},
    }
    item_parameters = [
        collection,
        {
            "name": "limit",
            "in": "query",
            "style": "form",
            "explode": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": limit_max, "default": limit_default},
        },
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
        {
            "name": "bbox",
            "in": "query",
            "style": "form",
            "explode": False,
            "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
        },
        {"name": "bbox-crs", "in": "query", "schema": {"type": "string", "format": "uri"}},
    ]
    feature_id = {"name": "featureId", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "GridMap OGC API – Features",
            "version": "1.0",
            "description": "Streets, communities, published grids with coverage metrics, service stations.",
        },
        "servers": [{"url": base}],
        "security": [{"token": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "Token <key> (rest_framework.authtoken)",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            }
        },
        "paths": {
            "/": _get("Landing page", _JSON),
            "/conformance": _get("Conformance classes", _JSON),
            "/api": _get(
                "This document", {"application/vnd.oai.openapi+json;version=3.0": {"schema": {"type": "object"}}}
            ),
            "/collections": _get("Collections", _JSON),
            "/collections/{collectionId}": _get("One collection", _JSON, [collection]),
            "/collections/{collectionId}/items": _get("Features", _GEOJSON, item_parameters),
            "/collections/{collectionId}/items/{featureId}": _get("One feature", _GEOJSON, [collection, feature_id]),
        },
    }
