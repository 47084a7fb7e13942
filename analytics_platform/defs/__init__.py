"""Instances only (loaded by ``dg.load_from_defs_folder``): the networks of the configuration
file (``networks/defs.yaml``) and the platform's resources (``platform.py``). The machinery
they instantiate lives in :mod:`analytics_platform.lib`."""
