"""Context processors: the menu of the signed-in user, from ``policy.navigation``; the demo-mode banner."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from gridmap import policy


def menu(request) -> dict:
    """``menu``: [{"url", "label", "current"}] for base.html; empty for anonymous users."""
    if not hasattr(request, "user"):
        return {"menu": [], "concern_bell": False}
    items = [{"url": reverse(name), "label": label} for name, label in policy.navigation(request.user)]
    for item in items:
        item["current"] = request.path == item["url"]
    # The concerns bell (base.js fills its counts): for those who work on residents' concerns.
    return {"menu": items, "concern_bell": policy.concern_level(request.user) is not None}


def demo_mode(request) -> dict:
    """``demo_mode`` for base.html's banner: demo accounts share a published password, so no real data."""
    return {"demo_mode": settings.DEMO_MODE}
