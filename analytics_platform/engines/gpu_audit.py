"""Which feature plans the GPU engine could run, checked on a machine without a GPU.

:class:`GpuPlanAudit` computes features like the CPU engine, but builds the plans the GPU
engine builds (``encode_by_hash = False``) and hands each one to cudf-polars' translator
(:func:`engines.gpu.gpu_plan_problem`) before running it on the CPU. It needs the
``cudf-polars`` package, not a device: ``bash scripts/gpu-plan-audit.sh`` installs it in a
separate environment (about 3 GB) and runs ``analytics_platform_tests/engines/test_gpu_plans.py``.
"""

from __future__ import annotations

import polars as pl

from analytics_platform.engines.cpu import CpuEngine
from analytics_platform.engines.gpu import gpu_plan_problem, polars_gpu_engine


class GpuPlanAudit(CpuEngine):
    name = "gpu-audit"
    encode_by_hash = False

    def __init__(self) -> None:
        self.translated = 0
        self.problems: list[str] = []
        self._engine = polars_gpu_engine()

    def collect(self, plan: pl.LazyFrame) -> pl.DataFrame:
        problem = gpu_plan_problem(plan, self._engine)
        self.translated += 1
        if problem is not None:
            self.problems.append(problem)
        return super().collect(plan)
