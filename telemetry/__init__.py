"""The one place metric names, units and dimension sets are defined.

The handlers emit exactly these series, the CDK dashboards and alarms plot exactly these series,
and the local runtime renders the same dashboards from them, so a rename cannot leave a
dashboard empty: the tests compare what the handlers really emit with what the dashboards name.
"""
