"""GPU routing on Kubernetes, built with dagster-k8s's own spec builders (no cluster needed).

The step pods of ``k8s_job_executor`` take their Kubernetes config from the run launcher and the
step's op tags (job-level ``dagster-k8s/config`` tags are not applied to step pods, which is
what users of backfills and automation ran into in dagster issues 22865 and 26720). So the GPU
request sits on the GPU step's op tags, and the executor is set on the Definitions, so every
job, the implicit asset job that asset backfills and automation run included, uses it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analytics_platform.config import load_settings
from analytics_platform.lib.compute import GPU_TAGS

ROOT = Path(__file__).resolve().parents[2]
GPU_STEP = "torus__address_features"
CPU_STEPS = ("torus__ingest_transfers", "torus__daily_edges", "torus__typology_alerts")
KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: not-a-secret}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


@pytest.fixture
def k8s_defs(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path))
    monkeypatch.setenv("ANALYTICS_FEATURE_ENGINE", "gpu")
    monkeypatch.setenv("ANALYTICS_EXECUTOR", "k8s")
    from analytics_platform.lib.loading import build_definitions

    return build_definitions(load_settings())


@pytest.fixture
def run_launcher(tmp_path, monkeypatch):
    """The K8sRunLauncher of deploy/dagster.yaml (kube config from a file, no cluster call)."""
    from dagster._config import process_config
    from dagster._config.field import resolve_to_config_type
    from dagster_k8s import K8sRunLauncher

    monkeypatch.setenv("DAGSTER_K8S_NAMESPACE", "analytics")
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    config = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())["run_launcher"]
    assert (config["module"], config["class"]) == ("dagster_k8s", "K8sRunLauncher")
    cfg = dict(config["config"], load_incluster_config=False)
    cfg["kubeconfig_file"] = str(tmp_path / "kubeconfig")
    # Validated and defaulted by the launcher's own config schema, as the instance does.
    result = process_config(resolve_to_config_type(K8sRunLauncher.config_type()), cfg)
    assert result.success, result.errors
    return K8sRunLauncher.from_config_value(None, result.value)


def _step_pod_spec(job_def, step_key: str, run_launcher, run_tags: dict):
    """The V1PodSpec that k8s_job_executor's step handler would create for ``step_key``."""
    from dagster import DagsterRun
    from dagster._core.execution.api import create_execution_plan
    from dagster_k8s.container_context import K8sContainerContext
    from dagster_k8s.job import construct_dagster_k8s_job, get_user_defined_k8s_config

    step = create_execution_plan(job_def).get_step_by_key(step_key)
    run = DagsterRun(job_name=job_def.name, run_id="0" * 36, tags=run_tags)
    context = K8sContainerContext.create_for_run(run, run_launcher, include_run_tags=False)
    context = context.merge(
        K8sContainerContext(run_k8s_config=get_user_defined_k8s_config(step.tags))
    )
    job = construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config(
            "registry/analytics-platform-gpu:0.1.0", run_launcher
        ),
        args=["dagster", "api", "execute_step"],
        job_name=f"dagster-step-{step_key.replace('_', '-')}"[:63],
        user_defined_k8s_config=context.run_k8s_config,
        component="step_worker",
    )
    return job.spec.template.spec


BACKFILL_TAGS = {
    "dagster/backfill": "abcdefgh",
    "dagster/asset_partition_range_start": "2026-10-01",
    "dagster/asset_partition_range_end": "2026-10-03",
}


@pytest.mark.parametrize("which", ["daily job", "asset backfill job"])
def test_gpu_step_gets_a_gpu_on_gpu_nodes_and_cpu_steps_do_not(k8s_defs, run_launcher, which):
    job = (
        k8s_defs.resolve_job_def("torus__daily")
        if which == "daily job"
        else k8s_defs.resolve_implicit_global_asset_job_def()
    )
    assert job.executor_def.name == "k8s"
    pod = _step_pod_spec(job, GPU_STEP, run_launcher, BACKFILL_TAGS)
    container = pod.containers[0]
    assert container.resources.limits["nvidia.com/gpu"] == "1"
    assert container.resources.requests["nvidia.com/gpu"] == "1"
    assert pod.node_selector == {"analytics/accelerator": "nvidia-gpu"}
    assert [t.key for t in pod.tolerations] == ["nvidia.com/gpu"]
    # The run launcher's settings (secrets from Kubernetes Secrets) reach the step pod too.
    assert {e.secret_ref.name for e in container.env_from if e.secret_ref} == {
        "analytics-platform-secrets"
    }
    for step_key in CPU_STEPS:
        cpu_pod = _step_pod_spec(job, step_key, run_launcher, BACKFILL_TAGS)
        resources = cpu_pod.containers[0].resources
        assert "nvidia.com/gpu" not in ((resources.limits or {}) if resources else {})
        assert not cpu_pod.node_selector and not cpu_pod.tolerations


def test_gpu_steps_are_in_the_gpu_pool_and_gpu_jobs_carry_the_run_tag(k8s_defs):
    job = k8s_defs.resolve_job_def("torus__daily")
    assert job.tags["analytics/compute"] == "gpu"
    from dagster._core.execution.api import create_execution_plan

    plan = create_execution_plan(job)
    pools = {s.key: s.pool for s in plan.steps}
    assert pools[GPU_STEP] == "gpu"
    assert all(pools[k] is None for k in CPU_STEPS)


def test_cpu_engine_has_no_gpu_anything(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path))
    monkeypatch.setenv("ANALYTICS_FEATURE_ENGINE", "cpu")
    from analytics_platform.lib.loading import build_definitions

    defs = build_definitions(load_settings())
    job = defs.resolve_job_def("torus__daily")
    assert job.executor_def.name == "multiprocess"
    assert job.tags["analytics/compute"] == "cpu"
    from dagster._core.execution.api import create_execution_plan

    step = create_execution_plan(job).get_step_by_key(GPU_STEP)
    assert step.pool is None and "dagster-k8s/config" not in step.tags


def test_helm_gpu_node_pool_matches_the_gpu_step_tags():
    values = yaml.safe_load((ROOT / "deploy" / "helm" / "values.yaml").read_text())
    pod = GPU_TAGS["dagster-k8s/config"]["pod_spec_config"]
    assert values["gpuNodePool"]["nodeSelector"] == pod["node_selector"]
    assert values["gpuNodePool"]["tolerations"] == pod["tolerations"]
    gpus = values["gpuNodePool"]["gpusPerNode"] * values["gpuNodePool"]["nodes"]
    runs = values["concurrency"]["runs"]["tagConcurrencyLimits"]
    assert runs == [{"key": "analytics/compute", "value": "gpu", "limit": gpus}]
    assert values["concurrency"]["pools"]["defaultLimit"] == gpus


def test_backfills_fan_out_in_runs_of_the_configured_days(tmp_path, monkeypatch):
    (tmp_path / "config.yaml").write_text(
        "networks:\n  torus:\n    start_date: '2026-01-01'\n    backfill_days_per_run: 7\n"
    )
    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path))
    from analytics_platform.lib.loading import build_definitions

    defs = build_definitions(load_settings())
    for asset in ("transfers", "address_features", "typology_alerts"):
        policy = defs.resolve_assets_def(["torus", asset]).backfill_policy
        assert policy.max_partitions_per_run == 7, asset
    with pytest.raises(
        ValueError,
        match="networks.torus.backfill_days_per_run: Input should be greater than or equal to 0",
    ):
        (tmp_path / "config.yaml").write_text(
            "networks:\n  torus:\n    backfill_days_per_run: -1\n"
        )
        load_settings()
