"""The one exception the people/household services raise when they refuse: an HTTP status, a stable
machine code, the field at fault and a readable reason. The API layer turns it into a 4xx JSON body."""

from __future__ import annotations


class Refused(Exception):
    def __init__(self, status: int, code: str, *, field: str = "", detail: str = "", **extra):
        super().__init__(detail or code)
        self.status, self.code, self.field, self.detail, self.extra = status, code, field, str(detail), extra

    def as_json(self) -> dict:
        return {"code": self.code, "field": self.field, "detail": self.detail, **self.extra}

    @classmethod
    def from_geometry(cls, exc, field: str | None = None) -> Refused:
        """A geometry refusal (geodata.validation.GeometryRejected) with the shape gate's reason table (a
        translated message and the location), so a point or a shape names the same reason on every path."""
        from gridmap.services.grids.shapes import EditRejected  # the reason table lives with the shape gate

        body = EditRejected.from_geometry(exc, field).as_json()
        code, where, detail = body.pop("code"), body.pop("field"), body.pop("detail")
        return cls(413 if exc.too_large else 400, code, field=where or "", detail=detail, **body)


def not_found(field: str = "id") -> Refused:
    # One answer for "does not exist" and "not yours": out-of-scope objects must not reveal themselves.
    return Refused(404, "not_found", field=field)
