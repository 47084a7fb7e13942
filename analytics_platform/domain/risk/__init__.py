"""Learned risk scoring beside the rules: label history, the address-day matrix, the model.

Dagster-free (polars and LightGBM in, frames out). Learning never looks past its cutoff: a
label is used only when it was known at or before the cutoff (``labels``), and the model's
thresholds are chosen on validation days before the cutoff (``model``).
"""
