"""Thin page views: parse, call one query or service, render."""
