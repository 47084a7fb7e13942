"""Platform settings: where data lives and which networks exist.

Everything comes from the environment (and an optional YAML file it points to), never from
code edits. ``ANALYTICS_PROFILE`` picks the profile:

``local`` (default): embedded chDB, a local lake folder, SQLite Dagster storage under the home.

- ``ANALYTICS_HOME``: working folder of the embedded default (default ``./.analytics``).
- ``ANALYTICS_CLICKHOUSE_DSN``: warehouse DSN; default ``chdb:///$ANALYTICS_HOME/chdb``
  (embedded chDB). A server URL such as ``https://user:pw@host:8443/`` is passed through
  unchanged to clickhouse-connect.
- ``ANALYTICS_LAKE_URL``: Parquet lake root; default ``$ANALYTICS_HOME/lake``; ``s3://bucket/prefix``
  for S3 (with ``AWS_ENDPOINT_URL`` for MinIO or moto).
- ``ANALYTICS_CONFIG``: YAML file with the networks; default ``$ANALYTICS_HOME/config.yaml``
  when it exists, else a single ``torus`` network.
- ``ANALYTICS_FEATURE_ENGINE``: ``cpu`` or ``gpu``, overriding ``features.engine`` in the file.

``production``: a ClickHouse server or cluster, an S3 lake, Dagster storage on PostgreSQL (the
instance's ``dagster.yaml`` in ``DAGSTER_HOME``, see ``deploy/``):

- ``CLICKHOUSE_HOST`` (required), ``CLICKHOUSE_PORT`` (default 8443 when secure, else 8123),
  ``CLICKHOUSE_USER`` (``default``), ``CLICKHOUSE_PASSWORD``, ``CLICKHOUSE_DATABASE``
  (``default``), ``CLICKHOUSE_SECURE`` (``true``/``false``), ``CLICKHOUSE_CLUSTER`` (optional:
  replicated DDL ``ON CLUSTER`` and distributed reads). ``ANALYTICS_CLICKHOUSE_DSN``, when set,
  replaces the server fields (any clickhouse-connect DSN, ``chdb://`` included).
- ``ANALYTICS_S3_BUCKET`` (required), ``ANALYTICS_S3_PREFIX`` (``analytics``), ``AWS_REGION``,
  ``AWS_ENDPOINT_URL`` (optional, for MinIO). Credentials come from the standard AWS chain
  (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a web identity or an instance role), read by
  the S3 client itself, never by this code.
- ``ANALYTICS_EXECUTOR``: ``multiprocess`` (default), ``in_process`` or ``k8s``
  (``k8s_job_executor``: one pod per step, GPU steps on GPU nodes).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from analytics_platform.domain.patterns.limits import PatternLimits
from analytics_platform.identifiers import IDENTIFIER, validate_identifier
from analytics_platform.storage.clickhouse import ClickHouseTarget

__all__ = ["IDENTIFIER", "Settings", "load_settings", "validate_identifier"]

DEFAULT_ADDRESS_PATTERN = r"^0x[0-9a-f]{40}$"


KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


@dataclass(frozen=True)
class KafkaSourceConfig:
    """A Kafka topic of JSON transfer messages (schema: README, "Kafka source").

    Secrets never sit in the config file: ``bootstrap_servers_env`` and ``sasl_password_env``
    name environment variables that hold them.
    """

    topic: str
    bootstrap_servers: str = ""
    bootstrap_servers_env: str = ""
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password_env: str = ""
    ssl_ca_location: str = ""
    batch_messages: int = 50_000
    """Messages stored per ClickHouse insert (one atomic part each)."""
    idle_timeout_s: float = 30.0
    """A run fails when the broker gives neither a message nor end-of-partition for this long."""
    late_data_horizon_days: int = 7
    """Late data refreshes feature windows and alerts only for days this recent."""
    sensor_interval_s: int = 30
    """Seconds between the sensor's end-offset polls."""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,249}", self.topic or ""):
            raise ValueError(f"source.topic: not a valid Kafka topic name: {self.topic!r}")
        if bool(self.bootstrap_servers) == bool(self.bootstrap_servers_env):
            raise ValueError(
                "source.bootstrap_servers: set exactly one of bootstrap_servers and "
                "bootstrap_servers_env"
            )
        if self.security_protocol not in KAFKA_SECURITY_PROTOCOLS:
            raise ValueError(
                f"source.security_protocol: expected one of {KAFKA_SECURITY_PROTOCOLS}, "
                f"got {self.security_protocol!r}"
            )
        if self.batch_messages < 1 or self.idle_timeout_s <= 0 or self.sensor_interval_s < 1:
            raise ValueError(
                "source.batch_messages, source.idle_timeout_s and source.sensor_interval_s "
                "must be positive"
            )
        if self.late_data_horizon_days < 0:
            raise ValueError(
                f"source.late_data_horizon_days: must be >= 0, got {self.late_data_horizon_days}"
            )

    def servers(self, env: dict[str, str] | None = None) -> str:
        """The bootstrap servers, read from the environment when configured so."""
        if self.bootstrap_servers:
            return self.bootstrap_servers
        env = os.environ if env is None else env
        value = env.get(self.bootstrap_servers_env, "")
        if not value:
            raise ValueError(
                f"{self.bootstrap_servers_env}: not set (source.bootstrap_servers_env of "
                f"topic {self.topic!r})"
            )
        return value


@dataclass(frozen=True)
class SourceConfig:
    """Where a network's raw transfers come from.

    ``kind='files'``: ``path`` is a local path or ``s3://`` glob of Parquet/CSV files.
    ``kind='clickhouse'``: ``table`` (``db.table``) on the warehouse, or on ``dsn_env`` (the name
    of an environment variable that holds another ClickHouse DSN).
    ``kind='kafka'``: ``kafka`` (a :class:`KafkaSourceConfig`); a sensor ingests the topic into
    the warehouse and ``transfers`` reads what was ingested.
    """

    kind: str = "files"
    path: str | None = None
    table: str | None = None
    dsn_env: str | None = None
    kafka: KafkaSourceConfig | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("files", "clickhouse", "kafka"):
            raise ValueError(f"source.kind: unknown source kind {self.kind!r}")
        if self.kind == "kafka" and self.kafka is None:
            raise ValueError("source: kind 'kafka' needs topic and bootstrap_servers")
        if self.kind == "files" and not self.path:
            raise ValueError("source.path: required when source.kind is 'files'")
        if self.kind == "clickhouse":
            if not self.table:
                raise ValueError("source.table: required when source.kind is 'clickhouse'")
            for part in self.table.split("."):
                validate_identifier(part, "source.table")


@dataclass(frozen=True)
class NetworkConfig:
    """One chain (network): its partitions, sources, windows and detection limits."""

    name: str
    start_date: date
    end_date: date | None = None
    source: SourceConfig | None = None
    address_pattern: str = DEFAULT_ADDRESS_PATTERN
    windows: tuple[int, ...] = (7, 30, 90)
    pattern_span_days: int = 3
    backfill_days_per_run: int = 0
    """Backfills: 0 = one run for the whole range; N = one run per N days (runs fan out across
    pods/GPUs, bounded by the run queue's limits)."""
    schedule_cron: str = "30 0 * * *"
    reporting_thresholds: dict[str, float] = field(default_factory=dict)
    """Per asset, the reporting threshold in that asset's native units (structuring features)."""
    structuring_band: float = 0.1
    pattern_limits: PatternLimits = field(default_factory=PatternLimits)
    """Detector limits (``patterns:`` in the network's YAML; durations in hours)."""

    def __post_init__(self) -> None:
        validate_identifier(self.name, "network name")
        for asset, value in self.reporting_thresholds.items():
            if not isinstance(value, int | float) or value <= 0:
                raise ValueError(
                    f"reporting_thresholds.{asset}: expected a positive native amount, "
                    f"got {value!r}"
                )
        if not 0 < self.structuring_band < 1:
            raise ValueError(f"structuring_band: must be in (0, 1), got {self.structuring_band}")
        if not self.windows or any(w < 1 for w in self.windows):
            raise ValueError(f"windows: expected positive day counts, got {self.windows!r}")
        if self.pattern_span_days < 1:
            raise ValueError(f"pattern_span_days: must be >= 1, got {self.pattern_span_days}")
        if self.backfill_days_per_run < 0:
            raise ValueError(
                "backfill_days_per_run: must be >= 0 (0 = one run), "
                f"got {self.backfill_days_per_run}"
            )
        re.compile(self.address_pattern)

    @property
    def max_window(self) -> int:
        return max(self.windows)


@dataclass(frozen=True)
class FeatureSettings:
    """How ``address_features`` runs: engine, CPU fallback and algorithm sizes."""

    engine: str = "cpu"
    fallback_to_cpu: bool = False
    betweenness_samples: int = 16

    def __post_init__(self) -> None:
        if self.engine not in ("cpu", "gpu"):
            raise ValueError(f"features.engine: expected 'cpu' or 'gpu', got {self.engine!r}")
        if self.betweenness_samples < 1:
            raise ValueError(
                f"features.betweenness_samples: must be >= 1, got {self.betweenness_samples}"
            )


PROFILES = ("local", "production")
EXECUTORS = ("multiprocess", "in_process", "k8s")


@dataclass(frozen=True)
class LakeLocation:
    """The Parquet lake: a local folder or ``s3://bucket/prefix`` (with region and endpoint)."""

    url: str
    region: str = ""
    endpoint_url: str = ""


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one deployment."""

    home: Path
    clickhouse: ClickHouseTarget
    lake: LakeLocation
    networks: tuple[NetworkConfig, ...]
    labels_path: str | None = None
    typologies_path: str | None = None
    features: FeatureSettings = field(default_factory=FeatureSettings)
    extra: dict[str, Any] = field(default_factory=dict)
    profile: str = "local"
    executor: str = "multiprocess"

    @property
    def lake_url(self) -> str:
        return self.lake.url

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    def network(self, name: str) -> NetworkConfig:
        for net in self.networks:
            if net.name == name:
                return net
        raise KeyError(f"network: unknown network {name!r}")


def _parse_network(name: str, raw: dict[str, Any]) -> NetworkConfig:
    source = raw.get("source")
    return NetworkConfig(
        name=name,
        start_date=_as_date(raw.get("start_date", "2026-01-01"), f"{name}.start_date"),
        end_date=_as_date(raw["end_date"], f"{name}.end_date") if raw.get("end_date") else None,
        source=_parse_source(source) if source else None,
        address_pattern=raw.get("address_pattern", DEFAULT_ADDRESS_PATTERN),
        windows=tuple(int(w) for w in raw.get("windows", (7, 30, 90))),
        pattern_span_days=int(raw.get("pattern_span_days", 3)),
        backfill_days_per_run=int(raw.get("backfill_days_per_run", 0)),
        schedule_cron=raw.get("schedule_cron", "30 0 * * *"),
        reporting_thresholds={
            str(k): float(v) for k, v in (raw.get("reporting_thresholds") or {}).items()
        },
        structuring_band=float(raw.get("structuring_band", 0.1)),
        pattern_limits=PatternLimits.from_mapping(raw.get("patterns")),
    )


def _parse_source(raw: dict[str, Any]) -> SourceConfig:
    if raw.get("kind") != "kafka":
        return SourceConfig(**raw)
    fields = {k: v for k, v in raw.items() if k != "kind"}
    known = set(KafkaSourceConfig.__dataclass_fields__)
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(f"source.{unknown[0]}: unknown Kafka source setting")
    return SourceConfig(kind="kafka", kafka=KafkaSourceConfig(**fields))


def _as_date(value: Any, what: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{what}: expected YYYY-MM-DD, got {value!r}") from exc


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from the environment (``env`` overrides ``os.environ`` for tests)."""
    env = dict(os.environ if env is None else env)
    home = Path(env.get("ANALYTICS_HOME", ".analytics")).resolve()
    profile = env.get("ANALYTICS_PROFILE") or "local"
    if profile not in PROFILES:
        raise ValueError(f"ANALYTICS_PROFILE: expected one of {PROFILES}, got {profile!r}")
    executor = env.get("ANALYTICS_EXECUTOR") or "multiprocess"
    if executor not in EXECUTORS:
        raise ValueError(f"ANALYTICS_EXECUTOR: expected one of {EXECUTORS}, got {executor!r}")
    if profile == "production":
        warehouse, lake = production_clickhouse(env), production_lake(env)
    else:
        warehouse = ClickHouseTarget(
            dsn=env.get("ANALYTICS_CLICKHOUSE_DSN") or f"chdb://{home / 'chdb'}",
            cluster=env.get("CLICKHOUSE_CLUSTER", ""),
        )
        lake = LakeLocation(
            url=env.get("ANALYTICS_LAKE_URL") or str(home / "lake"),
            region=_region(env),
            endpoint_url=env.get("AWS_ENDPOINT_URL", ""),
        )
    config_path = env.get("ANALYTICS_CONFIG") or str(home / "config.yaml")
    raw: dict[str, Any] = {}
    if Path(config_path).exists():
        raw = yaml.safe_load(Path(config_path).read_text()) or {}
    elif env.get("ANALYTICS_CONFIG"):
        raise FileNotFoundError(f"ANALYTICS_CONFIG: no such file {config_path!r}")
    nets_raw = raw.get("networks") or {"torus": {}}
    networks = tuple(_parse_network(name, body or {}) for name, body in nets_raw.items())
    features_raw = dict(raw.get("features") or {})
    if env.get("ANALYTICS_FEATURE_ENGINE"):
        features_raw["engine"] = env["ANALYTICS_FEATURE_ENGINE"]
    return Settings(
        home=home,
        clickhouse=warehouse,
        lake=lake,
        profile=profile,
        executor=executor,
        networks=networks,
        labels_path=raw.get("labels_path"),
        typologies_path=raw.get("typologies_path"),
        features=FeatureSettings(**features_raw),
        extra={
            k: v
            for k, v in raw.items()
            if k not in ("networks", "labels_path", "features", "typologies_path")
        },
    )


def _region(env: dict[str, str]) -> str:
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""


def _flag(env: dict[str, str], name: str) -> bool:
    value = env.get(name, "false").strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"{name}: expected true or false, got {env[name]!r}")
    return value in ("true", "1", "yes")


def _required(env: dict[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise ValueError(f"{name}: required by ANALYTICS_PROFILE=production but not set")
    return value


def production_clickhouse(env: dict[str, str]) -> ClickHouseTarget:
    """The warehouse of the production profile, from ``CLICKHOUSE_*`` variables."""
    cluster = env.get("CLICKHOUSE_CLUSTER", "")
    if env.get("ANALYTICS_CLICKHOUSE_DSN"):
        return ClickHouseTarget(dsn=env["ANALYTICS_CLICKHOUSE_DSN"], cluster=cluster)
    port = env.get("CLICKHOUSE_PORT", "")
    if port and not port.isdigit():
        raise ValueError(f"CLICKHOUSE_PORT: expected a port number, got {port!r}")
    return ClickHouseTarget(
        host=_required(env, "CLICKHOUSE_HOST"),
        port=int(port or 0),
        username=env.get("CLICKHOUSE_USER") or "default",
        password=env.get("CLICKHOUSE_PASSWORD", ""),
        database=env.get("CLICKHOUSE_DATABASE") or "default",
        secure=_flag(env, "CLICKHOUSE_SECURE"),
        cluster=cluster,
    )


def production_lake(env: dict[str, str]) -> LakeLocation:
    """The S3 lake of the production profile: ``s3://$ANALYTICS_S3_BUCKET/$ANALYTICS_S3_PREFIX``."""
    bucket = _required(env, "ANALYTICS_S3_BUCKET")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", bucket):
        raise ValueError(f"ANALYTICS_S3_BUCKET: not a valid bucket name: {bucket!r}")
    prefix = (env.get("ANALYTICS_S3_PREFIX") or "analytics").strip("/")
    return LakeLocation(
        url=f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}",
        region=_region(env),
        endpoint_url=env.get("AWS_ENDPOINT_URL", ""),
    )
