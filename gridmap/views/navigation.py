"""Context processor: the menu of the signed-in user, from ``policy.navigation``."""

from __future__ import annotations

from django.urls import reverse

from gridmap import policy


def menu(request) -> dict:
    """``menu``: [{"url", "label", "current"}] for base.html; empty for anonymous users."""
    if not hasattr(request, "user"):
        return {"menu": []}
    items = [{"url": reverse(name), "label": label} for name, label in policy.navigation(request.user)]
    for item in items:
        item["current"] = request.path == item["url"]
    return {"menu": items}
