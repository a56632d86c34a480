"""HTTP interfaces for programs and map pages: GeoJSON layers (and, later, REST and OGC API)."""
