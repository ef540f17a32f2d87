"""Constructs, one concern each: tables, stream consumers, monitoring, bundling, keys."""
