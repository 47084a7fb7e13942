"""Evaluation on labelled datasets through the product (``run``) and its plot (``plot``);
the account-level scoring itself is Dagster-free in :mod:`analytics_platform.domain.evaluation`."""
