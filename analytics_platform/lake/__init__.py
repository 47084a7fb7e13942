"""The Parquet lake's tools: its manager (list, verify, compact, clean up, restore) and the SQL
over it (DuckDB)."""
