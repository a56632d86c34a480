"""Domain and value rules, each defined once (see docs/architecture.md)."""
