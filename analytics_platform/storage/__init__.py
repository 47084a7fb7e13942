"""Storage: the ClickHouse warehouse (chDB or server) and the Parquet lake."""
