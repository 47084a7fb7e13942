"""Tags and pools that place steps on the right workers and bound GPU work.

- Step level: ``dagster-k8s/config`` op tags are read by ``k8s_job_executor`` for each step's
  pod, whatever started the run (job, schedule, job or asset backfill, automation): GPU steps
  request ``nvidia.com/gpu`` on nodes labelled ``analytics/accelerator=nvidia-gpu`` and tolerate
  the GPU taint; CPU steps carry neither. GPU steps are also in the ``gpu`` concurrency pool, so
  Dagster never runs more of them at once than the pool's limit (set it to the GPU count).
- Run level: jobs that contain a GPU step carry the run tag ``analytics/compute=gpu``, which the
  queued run coordinator's ``tag_concurrency_limits`` hold to the GPU count (``deploy/``).
"""

from __future__ import annotations

from typing import Any

CPU_TAGS: dict[str, Any] = {"analytics/compute": "cpu"}

GPU_TAGS: dict[str, Any] = {
    "analytics/compute": "gpu",
    "dagster-k8s/config": {
        "container_config": {
            "resources": {
                "requests": {"nvidia.com/gpu": "1"},
                "limits": {"nvidia.com/gpu": "1"},
            }
        },
        "pod_spec_config": {
            "node_selector": {"analytics/accelerator": "nvidia-gpu"},
            "tolerations": [
                {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
            ],
        },
    },
}


GPU_POOL = "gpu"
COMPUTE_TAG = "analytics/compute"


def compute_tags(engine: str) -> dict[str, Any]:
    """Op tags for a step that runs on ``engine`` (``cpu`` or ``gpu``)."""
    return GPU_TAGS if engine == "gpu" else CPU_TAGS


def compute_pool(engine: str) -> str | None:
    """The concurrency pool of a step on ``engine``: ``gpu`` for GPU steps, none for CPU."""
    return GPU_POOL if engine == "gpu" else None


def run_tags(engine: str) -> dict[str, str]:
    """Run tags of a job whose heaviest step runs on ``engine``."""
    return {COMPUTE_TAG: engine}
