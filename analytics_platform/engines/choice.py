"""Which engine runs: ``cpu`` or ``gpu``, with the GPU's fallback to the CPU where asked."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from analytics_platform.engines.base import GraphEngine

log = logging.getLogger(__name__)


class EngineUnavailableError(RuntimeError):
    """The requested engine cannot run here (e.g. no GPU)."""


@dataclass(frozen=True)
class EngineChoice:
    engine: GraphEngine
    requested: str
    fallback_reason: str | None = None


ENGINES = ("cpu", "gpu")


def get_engine(name: str, *, fallback_to_cpu: bool = False) -> GraphEngine:
    """The engine called ``name``; see :func:`choose_engine` for the fallback rule."""
    return choose_engine(name, fallback_to_cpu=fallback_to_cpu).engine


def choose_engine(name: str, *, fallback_to_cpu: bool = False) -> EngineChoice:
    """Resolve ``name`` (``cpu`` or ``gpu``).

    Asking for ``gpu`` where no usable GPU stack exists raises :class:`EngineUnavailableError`
    naming the reason, unless ``fallback_to_cpu``: then the CPU engine is returned, the
    fallback is logged and its reason is on the returned choice (for run metadata). On a GPU,
    ``fallback_to_cpu`` also lets a single plan that cudf-polars cannot run go to the CPU
    (logged, and counted in the stage table) instead of failing the run.
    """
    if name == "cpu":
        from analytics_platform.engines.cpu import CpuEngine

        return EngineChoice(CpuEngine(), name)
    if name == "gpu":
        from analytics_platform.engines.gpu import GpuEngine, gpu_unavailable_reason

        reason = gpu_unavailable_reason()
        if reason is None:
            return EngineChoice(GpuEngine(plans_fallback_to_cpu=fallback_to_cpu), name)
        if fallback_to_cpu:
            log.warning("engine: GPU engine unavailable (%s); falling back to CPU", reason)
            from analytics_platform.engines.cpu import CpuEngine

            return EngineChoice(CpuEngine(), name, fallback_reason=reason)
        raise EngineUnavailableError(
            f"engine: 'gpu' requested but unavailable here: {reason}. Install the 'gpu' extra "
            "on a machine with an NVIDIA GPU, or set fallback_to_cpu."
        )
    raise EngineUnavailableError(
        f"engine: unknown graph engine {name!r} (expected one of {', '.join(ENGINES)})"
    )
