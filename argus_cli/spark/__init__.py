"""The Spark engine (`--engine spark`): the same report from the same definitions, on a cluster.

Nothing here defines a record's validity or a metric. The load runs argus's own staging
(load/staging.py, the one validation rule) inside Spark tasks, a file per task, each in a DuckDB
of its own, and hands Spark the staged facts (loading.py); the metric statements of metrics/
are transpiled to Spark SQL (dialect.py) and run through a DuckDB-shaped connection
(connection.py). PySpark is the optional `spark` extra; session.py says how to install it.
"""
