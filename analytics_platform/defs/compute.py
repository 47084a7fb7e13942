"""Op tags that place steps on the right workers.

``analytics/compute`` is a plain tag that tag-concurrency limits (run coordinator or
``dagster.yaml``'s ``tag_concurrency_limits``) can use, e.g. one GPU step at a time.
``dagster-k8s/config`` is read by dagster-k8s's run launcher and ``k8s_job_executor``: GPU
steps request ``nvidia.com/gpu`` and tolerate the usual GPU node taint, so they land on GPU
nodes and nothing else does.
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


def compute_tags(engine: str) -> dict[str, Any]:
    """Op tags for a step that runs on ``engine`` (``cpu`` or ``gpu``)."""
    return GPU_TAGS if engine == "gpu" else CPU_TAGS
