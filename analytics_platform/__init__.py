"""analytics_platform: blockchain transaction analytics (AML) as a Dagster asset graph.

Layout:
- ``domain``: pure logic, polars in and polars out (no Dagster).
- ``storage``: ClickHouse (clickhouse-connect / chDB) and Parquet lake access.
- ``defs``: the thin Dagster layer (assets, checks, resources, IO managers, schedules).
- ``definitions``: the code location's ``Definitions`` object.
"""

__version__ = "0.1.0"
