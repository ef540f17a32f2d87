"""The export check (``check --from-exports``): requesting exports, running the comparison, the report."""
