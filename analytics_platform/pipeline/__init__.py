"""The work of each asset, without Dagster: frames in, the asset's frame and per-day facts out.

Each ``lib/assets/<asset>.py`` loads its inputs, calls one function here and yields what it
returns, so everything an asset decides (which days, which labels, which addresses are left
out) is importable and unit-tested on its own.
"""
