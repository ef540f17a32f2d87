"""The export check (``check --from-exports``) and its engines: local PySpark, EMR Serverless."""
