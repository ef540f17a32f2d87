"""The AWS CDK app: both regions, dashboards, alarms. ``config`` is importable without aws-cdk-lib."""
