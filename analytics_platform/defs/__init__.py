"""The thin Dagster layer: assets, checks, resources, IO managers and schedules."""
