"""Usage metrics from the table's change stream: pure aggregation, distinct counting, EMF output.

The Lambda entry point is :func:`metrics.handler.handler`. Everything between parsing
(``ddbstream``) and writing the EMF lines is pure: records in, metric values out.
"""
