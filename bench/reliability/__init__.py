"""Load and fault runs (issue #9 item 6, security.md (d) T3, T7, T9, T10): see __main__.py."""
