"""The offline report is the same for the same data: folium's random element ids are renumbered."""

from __future__ import annotations

import re


def test_the_report_has_no_random_element_ids_and_renders_the_same_twice(client_for):
    client = client_for("street_admin")
    first = client.get("/planner/report.html").content.decode()
    second = client.get("/planner/report.html").content.decode()
    assert "map_1" in first
    assert not re.search(r"_[0-9a-f]{32}(?![0-9a-f])", first)
    assert first == second
