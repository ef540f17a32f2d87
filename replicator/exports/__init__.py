"""DynamoDB's table exports to S3, as AWS documents them: the layout, typed views of the manifests,
and a small writer of complete exports for tests, benchmarks and fixtures. Pure: no AWS library,
no pyspark (the export check's Spark job, ``jobs/export_compare.py``, imports this package).
"""
