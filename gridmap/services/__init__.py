"""Transactional functions that change several rows at once (set-based, never per-row saves)."""
