"""deploy/ files parse and reference only images, variables, files and ports that exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose" / "docker-compose.yml"
# Read by libraries rather than by the project's code: the AWS SDK's credential chain and
# Dagster's instance location.
LIBRARY_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "DAGSTER_HOME"}
THIRD_PARTY_IMAGES = ("postgres:", "clickhouse/", "apache/kafka:", "minio/")


def project_variables() -> set[str]:
    """Environment variables the project reads: code strings and ``env:`` in instance files."""
    names: set[str] = set()
    for path in (ROOT / "analytics_platform").rglob("*.py"):
        names |= set(re.findall(r"[\"']([A-Z][A-Z0-9]*_[A-Z0-9_]+)[\"']", path.read_text()))
    for path in DEPLOY.rglob("dagster.yaml"):
        names |= set(re.findall(r"env: ([A-Z0-9_]+)", path.read_text()))
    return names | LIBRARY_VARIABLES


def dockerfile_ports(name: str) -> set[int]:
    text = (DEPLOY / name).read_text()
    return {int(p) for p in re.findall(r"^EXPOSE (\d+)", text, re.M)}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_services_have_health_checks_and_pinned_or_built_images(compose):
    services = compose["services"]
    assert {
        "postgres", "clickhouse", "kafka", "minio", "mlflow", "code", "webserver", "daemon",
        "workspace",
    } <= set(services)  # fmt: skip
    built = {}
    for name, svc in services.items():
        if "build" in svc:
            context = (COMPOSE.parent / svc["build"]["context"]).resolve()
            assert context == ROOT, name
            assert (context / svc["build"]["dockerfile"]).is_file(), name
            built[svc["image"]] = svc["build"]["dockerfile"]
    for name, svc in services.items():
        image = svc["image"]
        if image.startswith(THIRD_PARTY_IMAGES):
            assert not image.endswith(":latest") and ":" in image, f"{name}: pin {image}"
        else:
            assert image in built, f"{name}: image {image} is built by no service"
        if not name.endswith("-init"):  # one-shot set-up services exit when done
            assert "healthcheck" in svc, f"{name} has no health check"
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{dep} has no health check"


def test_compose_variables_exist_in_the_project_and_in_env_example(compose):
    read = project_variables()
    env = compose["x-analytics-env"]
    unknown = sorted(k for k in env if k not in read)
    assert unknown == [], f"variables the project does not read: {unknown}"
    example = {
        line.split("=", 1)[0]
        for line in (COMPOSE.parent / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    body = "\n".join(line.split("#")[0] for line in COMPOSE.read_text().splitlines())
    interpolated = set(re.findall(r"\$\{([A-Z0-9_]+)", body))
    assert interpolated and interpolated <= example
    # Every variable the instance file needs is provided to the Dagster services.
    instance_vars = set(
        re.findall(r"env: ([A-Z0-9_]+)", (COMPOSE.parent / "dagster.yaml").read_text())
    )
    assert instance_vars <= set(env)
    for mount in compose["x-analytics-volumes"]:
        assert (COMPOSE.parent / mount.split(":")[0]).is_file(), mount


def test_compose_ports_agree_with_images_and_settings(compose):
    services = compose["services"]
    env = compose["x-analytics-env"]
    assert 4000 in dockerfile_ports("Dockerfile")
    code_cmd = services["code"]["command"]
    assert code_cmd[code_cmd.index("-p") + 1] == "4000"
    workspace = yaml.safe_load((COMPOSE.parent / "workspace.yaml").read_text())
    grpc = workspace["load_from"][0]["grpc_server"]
    assert (grpc["host"], grpc["port"]) == ("code", 4000)
    assert services["code"]["healthcheck"]["test"][1:] == [
        "dagster",
        "api",
        "grpc-health-check",
        "-p",
        "4000",
    ]
    assert "8123:8123" in services["clickhouse"]["ports"] and env["CLICKHOUSE_PORT"] == "8123"
    assert env["CLICKHOUSE_HOST"] == "clickhouse" and env["DAGSTER_PG_HOST"] == "postgres"
    assert env["AWS_ENDPOINT_URL"] == "http://minio:9000"
    assert "3000:3000" in services["webserver"]["ports"]
    webserver_cmd = services["webserver"]["command"]
    assert webserver_cmd[webserver_cmd.index("-p") + 1] == "3000"
    module = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["dagster"]
    assert module["module_name"] in code_cmd


def test_helm_values_reference_the_project_image_module_port_and_variables():
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["image"]["repository"].rsplit("/", 1)[1] in (
        "analytics-platform",
        "analytics-platform-gpu",
    )
    assert deployment["port"] in dockerfile_ports("Dockerfile.gpu")
    module = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["dagster"]
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", module["module_name"]]
    read = project_variables()
    names = [e["name"] for e in deployment["env"]]
    assert [n for n in names if n not in read] == []
    assert "CLICKHOUSE_PASSWORD" not in names  # secrets come from the Secret, not values
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert values["postgresql"]["enabled"] is False


def test_dockerfiles_install_the_project_and_start_the_code_server():
    for name, lock in (
        ("Dockerfile", "requirements-runtime.lock"),
        ("Dockerfile.gpu", "requirements-gpu.lock"),
    ):
        text = (DEPLOY / name).read_text()
        assert f"pip install --require-hashes --no-deps -r {lock}" in text, name
        assert "pip install --no-deps -e ." in text, name
        assert "COPY analytics_platform ./analytics_platform" in text
        assert "COPY pyproject.toml" in text  # [tool.dg]: where the defs folder is found
        assert '"-m", "analytics_platform.definitions"' in text
        assert "HEALTHCHECK" in text and "USER analytics" in text
        assert not re.search(r"(PASSWORD|SECRET)[A-Z_]*=", text), f"{name} holds a secret"


def test_compose_networks_config_loads_and_points_at_compose_services(compose):
    from analytics_platform.config import load_settings

    settings = load_settings({"ANALYTICS_CONFIG": str(COMPOSE.parent / "config.yaml")})
    kinds = {n.name: n.source.kind for n in settings.networks}
    assert kinds == {"torus": "kafka", "torus_files": "files"}
    servers = settings.network("torus").source.kafka.servers()
    host, port = servers.split(":")
    kafka = compose["services"][host]["environment"]
    assert f"PLAINTEXT://{host}:{port}" == kafka["KAFKA_ADVERTISED_LISTENERS"]
    assert settings.network("torus_files").source.path.startswith("s3://analytics-lake/")


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("dagster*.yaml")), ids=lambda p: p.name)
def test_instance_files_are_valid_and_retry_runs_lost_with_their_infrastructure(path, monkeypatch):
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config_schema

    text = path.read_text()
    for name in re.findall(r"env: ([A-Z0-9_]+)", text):
        monkeypatch.setenv(name, "5432")  # a value every field accepts (ports are ints)
    raw = yaml.safe_load(text)
    result = process_config(dagster_instance_config_schema(), raw)
    assert result.success, [e.message for e in result.errors]
    assert raw["run_retries"] == {
        "enabled": True,
        "max_retries": 2,
        "retry_on_asset_or_op_failure": False,
    }


def test_the_mlflow_server_is_deployed_where_the_code_location_looks_for_it(compose):
    """Compose and Kubernetes both run an MLflow server on PostgreSQL with S3 artifacts, at
    the MLFLOW_TRACKING_URI the code location is given; no secret is written in the files."""
    env = compose["x-analytics-env"]
    mlflow = compose["services"]["mlflow"]
    command = " ".join(mlflow["command"])
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000" and "5000:5000" in mlflow["ports"]
    assert "postgresql://" in command and "s3://analytics-lake/" in command
    assert "mlflow:5000" in command  # the host name the clients use is allowed
    assert compose["services"]["code"]["depends_on"]["mlflow"]["condition"] == "service_healthy"
    deployment, service = yaml.safe_load_all((DEPLOY / "k8s" / "mlflow.yaml").read_text())
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert "s3://" in " ".join(container["args"]) and "$MLFLOW_BACKEND_STORE_URI" in " ".join(
        container["args"]
    )
    assert not any("PASSWORD" in e["name"] for e in container.get("env", []))
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    (code,) = values["dagster-user-deployments"]["deployments"]
    uri = next(e["value"] for e in code["env"] if e["name"] == "MLFLOW_TRACKING_URI")
    port = service["spec"]["ports"][0]["port"]
    assert uri == f"http://{service['metadata']['name']}.analytics.svc.cluster.local:{port}"


def test_the_workspace_is_served_in_compose_and_on_kubernetes(compose):
    """``analytics-platform serve`` on port 8000 in both, its session secret from the
    environment (never in the files), its users on a volume of their own."""
    workspace = compose["services"]["workspace"]
    assert workspace["command"][:2] == ["analytics-platform", "serve"]
    assert "8000:8000" in workspace["ports"] and "healthcheck" in workspace
    assert workspace["environment"]["ANALYTICS_WORKSPACE_SECRET"].startswith("${WORKSPACE_SECRET:?")
    assert any(v.startswith("workspace-home:") for v in workspace["volumes"])
    assert "WORKSPACE_SECRET=" in (DEPLOY / "compose" / ".env.example").read_text()
    claim, deployment, service = yaml.safe_load_all((DEPLOY / "k8s" / "workspace.yaml").read_text())
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["command"][:2] == ["analytics-platform", "serve"]
    assert not any("SECRET" in e["name"] or "PASSWORD" in e["name"] for e in container["env"])
    assert service["spec"]["ports"][0]["port"] == container["ports"][0]["containerPort"] == 8000
    assert claim["kind"] == "PersistentVolumeClaim"
