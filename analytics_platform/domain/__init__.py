"""Pure domain logic: polars in, polars out. Nothing here imports Dagster."""
