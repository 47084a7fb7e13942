"""SQL over the Parquet lake with DuckDB, for the analyst's views (an address, a day's cases,
a case export): readable while the pipeline holds the warehouse (the embedded chDB store admits
one process at a time), locally or on S3, without loading a table."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import duckdb
import polars as pl

from analytics_platform.storage.identifiers import validate_identifier


def connect(lake_url: str) -> duckdb.DuckDBPyConnection:
    """DuckDB reading the lake, with S3 credentials and endpoint from the environment."""
    con = duckdb.connect()
    if lake_url.startswith("s3://"):
        # httpfs reads S3; aws finds credentials the way the AWS SDK does (environment, web
        # identity, instance role), so none pass through this code.
        for extension in ("httpfs", "aws"):
            _load(con, extension)
        options = ["TYPE s3", "PROVIDER credential_chain"]
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            options.append(f"REGION {_literal(region)}")
        endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
        if endpoint:  # MinIO, moto: the secret's own endpoint, path-style URLs
            options += [
                f"ENDPOINT {_literal(endpoint.split('://', 1)[-1])}",
                "URL_STYLE 'path'",
                f"USE_SSL {str(endpoint.startswith('https')).lower()}",
            ]
        con.execute(f"CREATE SECRET lake ({', '.join(options)})")
    return con


def _literal(text: str) -> str:
    """``text`` as a SQL string literal (DDL options take no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _load(con: duckdb.DuckDBPyConnection, extension: str) -> None:
    """A DuckDB extension from its PyPI package (``duckdb-extension-<name>``, built for this
    DuckDB), loaded by path: ``INSTALL`` downloads it, which an air-gapped cluster (or this
    project's CI) cannot. Without the package, DuckDB's own repository."""
    try:
        package = importlib.import_module(f"duckdb_extension_{extension}")
    except ImportError:
        con.execute(f"INSTALL {extension}; LOAD {extension}")
        return
    folder = Path(package.__file__).parent / "extensions"
    path = folder / f"v{duckdb.__version__}" / f"{extension}.duckdb_extension"
    if not path.exists():
        raise FileNotFoundError(
            f"duckdb-extension-{extension}: no extension for DuckDB {duckdb.__version__} at "
            f"{path} (install the package of the same version as duckdb)"
        )
    con.execute(f"LOAD {_literal(str(path))}")


class LakeSql:
    """One network's lake tables as DuckDB ``read_parquet`` sources, and queries over them."""

    def __init__(self, lake_url: str, network: str):
        self.root = lake_url.rstrip("/")
        self.network = validate_identifier(network, "network")
        self.con = connect(lake_url)

    def table(self, name: str) -> str:
        """The ``FROM`` source of lake table ``name`` (every partition, columns by name)."""
        table = validate_identifier(name, "table")
        files = f"{self.root}/{table}/network={self.network}/**/*.parquet"
        return f"read_parquet({_literal(files)}, union_by_name=true)"

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
