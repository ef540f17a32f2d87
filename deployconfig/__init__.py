"""The deployment's configuration: what ``cdk.json``'s context says, validated once.

Read by the CDK app (what to deploy), the local runtime (the same tables, names and settings
locally) and the benchmarks. Plain data and validation: nothing here imports aws-cdk-lib or boto3,
so it ships in the wheel with the local runtime.
"""
