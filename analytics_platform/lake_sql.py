"""SQL over the Parquet lake with DuckDB, for the analyst's views (an address, a day's cases,
a case export): readable while the pipeline holds the warehouse (the embedded chDB store admits
one process at a time), locally or on S3, without loading a table."""

from __future__ import annotations

import os

import duckdb
import polars as pl

from analytics_platform.identifiers import validate_identifier


def connect(lake_url: str) -> duckdb.DuckDBPyConnection:
    """DuckDB reading the lake, with S3 credentials and endpoint from the environment."""
    con = duckdb.connect()
    if lake_url.startswith("s3://"):
        # httpfs reads S3 with the standard AWS variables; an endpoint (MinIO, moto) as well.
        con.execute("INSTALL httpfs; LOAD httpfs")
        con.execute("CREATE SECRET lake (TYPE s3, PROVIDER credential_chain)")
        endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
        if endpoint:
            host = endpoint.split("://", 1)[-1]
            con.execute(f"SET s3_endpoint = '{host}'")
            con.execute("SET s3_url_style = 'path'")
            con.execute(f"SET s3_use_ssl = {str(endpoint.startswith('https')).lower()}")
    return con


class LakeSql:
    """One network's lake tables as DuckDB ``read_parquet`` sources, and queries over them."""

    def __init__(self, lake_url: str, network: str):
        self.root = lake_url.rstrip("/")
        self.network = validate_identifier(network, "network")
        self.con = connect(lake_url)

    def table(self, name: str) -> str:
        """The ``FROM`` source of lake table ``name`` (every partition, columns by name)."""
        table = validate_identifier(name, "table")
        return (
            f"read_parquet('{self.root}/{table}/network={self.network}/**/*.parquet', "
            "union_by_name=true)"
        )

    def query(self, sql: str, *params) -> pl.DataFrame:
        """``sql`` with ``params``; an empty frame when a table it reads has no files yet."""
        try:
            return self.con.execute(sql, list(params)).pl()
        except duckdb.IOException as exc:
            if "No files found" in str(exc):
                return pl.DataFrame()
            raise

    def query_as(self, schema: dict[str, pl.DataType], sql: str, *params) -> pl.DataFrame:
        """:meth:`query` with its columns cast to ``schema``; no rows (or no files yet, which
        gives no columns at all) is an empty frame of ``schema``."""
        rows = self.query(sql, *params)
        if rows.height == 0:
            return pl.DataFrame(schema=schema)
        return rows.select(pl.col(c).cast(t) for c, t in schema.items())
