"""Distributed jobs: plain PySpark programs that run on a laptop (``local[*]``) and on a managed
Spark service (EMR Serverless) alike. They import the shared item rules (``ddbstream``,
``replicator.core``, ``replicator.exports``) and pyspark, never an AWS SDK: Spark reads S3 itself.
"""
