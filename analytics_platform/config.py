"""Platform settings: where data lives and which networks exist.

Everything comes from the environment (and an optional YAML file it points to), never from
code edits. ``ANALYTICS_PROFILE`` picks the profile:

``local`` (default): embedded chDB, a local lake folder, SQLite Dagster storage under the home.

- ``ANALYTICS_HOME``: working folder of the embedded default (default ``./.analytics``).
- ``ANALYTICS_CLICKHOUSE_DSN``: warehouse DSN; default ``chdb:///$ANALYTICS_HOME/chdb``
  (embedded chDB). A server URL such as ``https://user:pw@host:8443/`` is passed through
  unchanged to clickhouse-connect.
- ``ANALYTICS_CHDB_IDLE_CLOSE_S``: seconds an embedded session stays open after its last use
  (default 2; ``storage.clickhouse.session``).
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
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from analytics_platform.domain.patterns.limits import PatternLimits
from analytics_platform.storage.clickhouse import ClickHouseTarget
from analytics_platform.storage.identifiers import IDENTIFIER, validate_identifier
from analytics_platform.storage.spill import SpillSettings

__all__ = ["IDENTIFIER", "Settings", "load_settings", "validate_identifier"]

DEFAULT_ADDRESS_PATTERN = r"^0x[0-9a-f]{40}$"


class _DatesAsText(yaml.SafeLoader):
    """YAML without implicit timestamps: ``2026-13-01`` reaches the model as text, whose error
    then names the key, instead of failing inside the YAML parser."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class StrictModel(BaseModel):
    """Configuration sections: immutable, and an unknown key is an error (a typo such as
    ``windos:`` would otherwise be silently ignored)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class LakeRetention(StrictModel):
    """Days of partitions the lake keeps per layer (``null``: all), counted back from the day
    cleanup runs for; ``lake cleanup`` still keeps what a kept partition needs as input."""

    raw: PositiveInt | None = None
    """transfers, transfers_rejected, transfers_quality, prices."""
    processed: PositiveInt | None = None
    """daily_edges, address_activity."""
    aggregated: PositiveInt | None = None
    """address_features, structural_patterns, typology_alerts, quality."""


class KafkaSourceConfig(StrictModel):
    """A Kafka topic of JSON transfer messages (their schema: docs, "Operations").

    Secrets never sit in the config file: ``bootstrap_servers_env`` and ``sasl_password_env``
    name environment variables that hold them.
    """

    topic: str
    bootstrap_servers: str = ""
    bootstrap_servers_env: str = ""
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password_env: str = ""
    ssl_ca_location: str = ""
    batch_messages: PositiveInt = 50_000
    """Messages stored per ClickHouse insert (one atomic part each)."""
    idle_timeout_s: PositiveFloat = 30.0
    """A run fails when the broker gives neither a message nor end-of-partition for this long."""
    late_data_horizon_days: NonNegativeInt = 7
    """Late data refreshes feature windows and alerts only for days this recent."""
    sensor_interval_s: PositiveInt = 30
    """Seconds between the sensor's end-offset polls."""

    @field_validator("topic")
    @classmethod
    def _topic(cls, topic: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,249}", topic):
            raise ValueError(f"not a valid Kafka topic name: {topic!r}")
        return topic

    @model_validator(mode="after")
    def _one_server_setting(self) -> KafkaSourceConfig:
        if bool(self.bootstrap_servers) == bool(self.bootstrap_servers_env):
            raise ValueError("set exactly one of bootstrap_servers and bootstrap_servers_env")
        return self

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


class SourceConfig(StrictModel):
    """Where a network's raw transfers come from.

    ``kind='files'``: ``path`` is a local path or ``s3://`` glob of Parquet/CSV files.
    ``kind='clickhouse'``: ``table`` (``db.table``) on the warehouse, or on ``dsn_env`` (the name
    of an environment variable that holds another ClickHouse DSN).
    ``kind='kafka'``: the topic settings (:class:`KafkaSourceConfig`) beside ``kind``; a sensor
    ingests the topic into the warehouse and ``transfers`` reads what was ingested.
    """

    kind: Literal["files", "clickhouse", "kafka"] = "files"
    path: str | None = None
    table: str | None = None
    dsn_env: str | None = None
    kafka: KafkaSourceConfig | None = None
    outside_partitions: Literal["reject", "ignore"] = "reject"
    """Rows dated outside the network's partitions (``start_date..end_date``): ``reject`` puts
    each in the dead letters, under its file's day or else the nearest partition, so every row
    the source hands over ends in one place; ``ignore`` leaves them to the source unread, for a
    source that holds more history than the network covers on purpose (a multi-year file
    behind a network of a few days)."""

    @model_validator(mode="before")
    @classmethod
    def _kafka_settings_beside_kind(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and raw.get("kind") == "kafka" and "kafka" not in raw:
            own = ("kind", "outside_partitions")
            return {
                **{k: raw[k] for k in own if k in raw},
                "kafka": {k: v for k, v in raw.items() if k not in own},
            }
        return raw

    @model_validator(mode="after")
    def _required_per_kind(self) -> SourceConfig:
        if self.kind == "files" and not self.path:
            raise ValueError("path: required when kind is 'files'")
        if self.kind == "clickhouse":
            if not self.table:
                raise ValueError("table: required when kind is 'clickhouse'")
            for part in self.table.split("."):
                validate_identifier(part, "source.table")
        return self


class RiskConfig(StrictModel):
    """The learned risk model beside the rules (``risk:`` in a network's YAML)."""

    labels_path: str | None = None
    """Extra labels to learn from besides the analysts' verdicts: a CSV/Parquet file of
    address, pattern_type, first_day, last_day, known_at[, source] (an evaluation dataset's
    ground truth, a team's past confirmed cases)."""
    confidence: float = Field(0.6, ge=0, le=1)
    """The weight of a model alert in its case's score, as a typology's confidence weighs a
    rule's: ``case_score = 1 - prod(1 - confidence * score)`` over the case's typologies, the
    model's probability being its score (``domain.cases``)."""
    history_days: PositiveInt = 730
    """How many days before the cutoff a training run reads."""
    lookback_days: PositiveInt | None = None
    """Days of payment relationships the model's relationship features read per address-day
    (one-off, regular and new counterparties, how connected they are: slow fans that no
    feature window shows); default the network's ``relationship_days``, and none without it.
    A model trained on another look-back is refused (its features are named by it). The
    daily scores read this many days of ``daily_edges`` into memory, as the patterns read their
    history: on a busy chain, keep it to weeks."""
    shadow_days: NonNegativeInt = 14
    """Days a challenger scores beside the champion (stored, never alerting) before
    ``promote`` accepts it without ``--force``."""
    max_type_loss: float = Field(0.02, ge=0, le=1)
    """``promote`` refuses a challenger worse than the champion by more than this on any
    pattern type's F1 on the holdout (unless forced with a reason)."""
    retrain_after_verdicts: PositiveInt = 50
    """The retraining sensor asks for a training run once this many new verdicts arrived."""
    retrain_cron: str = "0 4 * * 1"
    """The weekly retraining schedule (stopped until turned on in the UI)."""

    @field_validator("retrain_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from dagster._utils.schedules import is_valid_cron_string

        if not is_valid_cron_string(value):
            raise ValueError(f"invalid cron expression {value!r} (minute hour day month weekday)")
        return value


MAX_CASE_BUDGET = 100_000
"""More cases a day than any team works: a larger budget is a typo (it would cut nothing)."""
MAX_EVIDENCE_PER_DAY = 10_000
"""Pictures take about a second each: more a day is a typo."""


class NetworkConfig(StrictModel):
    """One chain (network): its partitions, sources, windows and detection limits."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=True, populate_by_name=True
    )

    name: str
    start_date: date = date(2026, 1, 1)
    end_date: date | None = None
    source: SourceConfig | None = None
    address_pattern: str = DEFAULT_ADDRESS_PATTERN
    windows: tuple[PositiveInt, ...] = (7, 30, 90)
    pattern_span_days: PositiveInt = 3
    dormancy_days: PositiveInt | None = None
    """A pattern's transfer has a dormant payer (payee) when the sender paid (the recipient was
    paid by) no one in this many days before it: pattern details ``dormant_*_share``, read by
    the typologies, and the legs of ``patterns.dormant_legs_only``. Patterns then read the
    ``daily_edges`` of this many days before their span (a month of edges per partition: off
    by default, as at chain scale that is the largest input of the step). ``null``: off."""
    funnel_days: PositiveInt | None = None
    """Funnel accounts: fan-ins are counted over the one-off payments from dormant payers (a
    new pair, see ``relationship_days``, from an account that had paid no one in ``dormancy_days``)
    of this many days, instead of every payment within ``patterns.fan_window``; see
    ``patterns.fans.detect_funnels``. Patterns then read this many days of transfers. Needs
    ``dormancy_days``. ``null``: off (fan-ins over ``fan_window``)."""
    relationship_days: PositiveInt | None = None
    """How far back one payment makes a pair established: a transfer is a new pair (the unusual
    legs of ``patterns.dormant_legs_only``, a funnel's legs) when its sender had not paid that
    recipient in this many days. An account that pays its usual counterparty again after a
    quiet spell starts no new relationship. Patterns then read this many days of
    ``daily_edges`` before their transfers. Needs ``dormancy_days``, and at least as many days.
    ``null``: ``dormancy_days``."""
    backfill_days_per_run: NonNegativeInt = 0
    """Backfills: 0 = one run for the whole range; N = one run per N days (runs fan out across
    pods/GPUs, bounded by the run queue's limits)."""
    schedule_cron: str = "30 0 * * *"
    alerts_deadline_cron: str = "0 6 * * *"
    """By this time (UTC) the previous day's ``typology_alerts`` should exist (freshness check)."""
    owners: tuple[str, ...] = ("team:aml-data",)
    """Dagster asset owners: ``team:<name>`` or e-mail addresses."""
    reporting_thresholds: dict[str, PositiveFloat] = Field(default_factory=dict)
    """Per asset, the reporting threshold in that asset's native units (structuring features)."""
    reporting_threshold_usd: PositiveFloat | None = None
    """One reporting threshold in USD for every priced asset (structuring, beside the native
    per-asset thresholds)."""
    anomaly_threshold: PositiveFloat = 3.5
    """Robust z-score above which a day's transfer count, volume per asset, active addresses or
    rejected share is a volume anomaly (non-blocking check on ``transfers``)."""
    anomaly_lookback_days: PositiveInt = 28
    """Trailing partitions a day is compared with (judged from 7 on)."""
    alert_min_value: NonNegativeFloat | None = None
    """Materiality: a pattern that moved less than this (USD where priced, else native units)
    raises no alert, except for typologies with ``materiality: false`` in the catalog
    (exposure to sanctioned addresses counts at any amount). ``null``: every amount."""
    evidence_per_day: Annotated[int, Field(ge=0, le=MAX_EVIDENCE_PER_DAY)] = 5
    """Evidence pictures (PNG, in the lake) for this many of each day's top cases; drawing
    takes about a second each, so a backfill of years may set 0."""
    case_budget: Annotated[int, Field(ge=1, le=MAX_CASE_BUDGET)] | None = 50
    """At most this many cases a day (an analyst team's capacity) are marked ``in_budget``,
    highest case score first; the rest stay stored below the cut. ``null``: no cut."""
    lake_retention: LakeRetention = Field(default_factory=LakeRetention)
    warehouse_retention: dict[str, Annotated[int, Field(ge=2)]] = Field(default_factory=dict)
    """Days a day-partitioned table keeps in ClickHouse (a ``TTL`` on its ``date``), e.g.
    ``{address_features: 30}``; the lake keeps the full history, and inputs older than that are
    read from the lake (``storage.retention``). Tables not named: kept."""
    lake_cleanup_cron: str = "0 3 * * 0"
    """When the ``<net>__lake_cleanup`` schedule applies ``lake_retention`` (UTC; weekly)."""
    timeliness_target_minutes: PositiveInt = 60
    """Kafka sources: a transfer ingested later than this after its block time counts against
    the day's quality score (``transfers_quality.timeliness``)."""
    max_amounts: dict[str, PositiveFloat] = Field(default_factory=dict)
    """Per asset, the largest single transfer that is plausible, in native units (e.g.
    ``{WETH: 1000000}``): a stored transfer above it fails the ``amounts_plausible`` warning
    on ``transfers`` (a decimals mix-up or a corrupt feed; the transfer itself is kept)."""
    max_transfer_usd: PositiveFloat | None = 1e10
    """A pair's largest transfer of a day worth more than this in USD fails the
    ``usd_plausible`` warning on ``daily_edges`` (no transfer ever moved $10B). ``null``: off."""
    min_quality_score: float = Field(0.9, ge=0, le=1)
    """A day whose ingestion quality score is below this fails the ``quality_score`` warning."""
    late_prices_horizon_days: NonNegativeInt = 7
    """A price that arrives or changes late refreshes the feature windows, pattern spans and
    alerts that cover its day only for days this recent (the ``<net>__late_prices`` sensor)."""
    prices_path: str | None = None
    """CSV/Parquet file(s) of daily USD prices: date, asset, usd_price[, decimals, source,
    network]; local or ``s3://``."""
    structuring_band: float = Field(0.1, gt=0, lt=1)
    pattern_limits: PatternLimits = Field(default_factory=PatternLimits, alias="patterns")
    """Detector limits (``patterns:`` in the network's YAML; durations in hours)."""
    risk: RiskConfig = Field(default_factory=RiskConfig)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        return validate_identifier(name, "network name")

    @field_validator("windows")
    @classmethod
    def _windows(cls, windows: tuple[int, ...]) -> tuple[int, ...]:
        if not windows:
            raise ValueError("expected at least one window (days)")
        return windows

    @field_validator("warehouse_retention")
    @classmethod
    def _retained_tables(cls, retention: dict[str, int]) -> dict[str, int]:
        from analytics_platform.storage.tables import DAILY_TABLES

        for table in retention:
            if table not in DAILY_TABLES:
                raise ValueError(
                    f"{table!r} is not a day-partitioned table (expected one of "
                    f"{', '.join(DAILY_TABLES)})"
                )
        return retention

    @field_validator("address_pattern")
    @classmethod
    def _pattern(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:  # not a ValueError: pydantic would let it through whole
            raise ValueError(f"invalid regex {pattern!r}: {exc}") from None
        return pattern

    @field_validator("schedule_cron", "alerts_deadline_cron", "lake_cleanup_cron")
    @classmethod
    def _cron(cls, cron: str) -> str:
        # Dagster's own test: the schedules it is given are the ones Dagster will run.
        from dagster._utils.schedules import is_valid_cron_string

        if not is_valid_cron_string(cron):
            raise ValueError(f"invalid cron expression {cron!r} (minute hour day month weekday)")
        return cron

    @field_validator("windows")
    @classmethod
    def _distinct_windows(cls, windows: tuple[int, ...]) -> tuple[int, ...]:
        repeated = sorted({w for w in windows if windows.count(w) > 1})
        if repeated:
            raise ValueError(f"window {repeated[0]} is listed twice (got {list(windows)})")
        return windows

    @model_validator(mode="after")
    def _end_after_start(self) -> NetworkConfig:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError(f"end_date: {self.end_date} is before start_date {self.start_date}")
        return self

    @field_validator("pattern_limits", mode="before")
    @classmethod
    def _limits(cls, raw: Any) -> PatternLimits:
        return raw if isinstance(raw, PatternLimits) else PatternLimits.from_mapping(raw)

    @property
    def max_window(self) -> int:
        return max(self.windows)

    @property
    def row_bounds(self) -> tuple[date | None, date | None]:
        """The first and last day a source row may be dated and still be read: the partitions,
        or no bounds when the source's ``outside_partitions`` is ``ignore``."""
        if self.source is not None and self.source.outside_partitions == "ignore":
            return None, None
        return self.start_date, self.end_date

    @property
    def pattern_transfer_days(self) -> int:
        """Days of transfers a day's patterns read: the span, or the funnel memory if longer."""
        return max(self.pattern_span_days, self.funnel_days or 0)

    @property
    def risk_lookback_days(self) -> int | None:
        """The risk model's relationship look-back: ``risk.lookback_days``, else
        ``relationship_days`` (none: no relationship features)."""
        return self.risk.lookback_days or self.relationship_days

    @property
    def pattern_history_days(self) -> int:
        """Days a day's patterns depend on: their transfers and the longer of the dormancy and
        relationship look-backs."""
        look_back = max(self.dormancy_days or 0, self.relationship_days or 0)
        return self.pattern_transfer_days + look_back

    @model_validator(mode="after")
    def _dormancy_users_need_dormancy(self) -> NetworkConfig:
        if self.pattern_limits.dormant_legs_only and self.dormancy_days is None:
            raise ValueError(
                "patterns.dormant_legs_only: needs dormancy_days (how long an account must "
                f"have been quiet), got {list(self.pattern_limits.dormant_legs_only)}"
            )
        if self.funnel_days is not None and self.dormancy_days is None:
            raise ValueError(
                "funnel_days: needs dormancy_days (how long a payer must have been quiet), "
                f"got funnel_days={self.funnel_days}"
            )
        if self.relationship_days is not None and (
            self.dormancy_days is None or self.relationship_days < self.dormancy_days
        ):
            raise ValueError(
                "relationship_days: needs dormancy_days and at least as many days, got "
                f"relationship_days={self.relationship_days}, dormancy_days={self.dormancy_days}"
            )
        return self


class FeatureSettings(StrictModel):
    """How ``address_features`` runs: engine, CPU fallback and algorithm sizes."""

    engine: Literal["cpu", "gpu"] = "cpu"
    fallback_to_cpu: bool = False
    betweenness_samples: PositiveInt = 16
    max_graph_edges: PositiveInt | None = None
    """The window graph's edge budget: a window with more ordered pairs runs the graph
    algorithms on its heaviest this many (the other features see every pair), and says so in
    the step's log and metadata. ``null``: no budget. Memory per pair: docs' benchmarks page."""
    spill_memory_ratio: float = Field(default=SpillSettings.memory_ratio, gt=0, lt=1)
    """The share of the warehouse's memory limit a window's GROUP BYs, sorts and joins may
    hold before they spill to its disk (``storage.window_sql.SpillSettings``). With embedded
    chDB the limit is 90 % of this machine's RAM and the step's own frames come on top: at
    30M transfers on 24 GiB, 0.15 halved the per-address sums' memory and doubled their time.
    Spilled parts need free disk (docs' ClickHouse deployment page)."""
    addresses_per_pass: PositiveInt = SpillSettings.addresses_per_pass
    """The window's flows and per-address sums are computed in passes over ranges of at most
    this many addresses, which bounds what one statement holds (``SpillSettings``); a window
    of fewer addresses is one pass. Memory per address: docs' benchmarks page."""
    spill_folder: str | None = None
    """Where ``address_features`` keeps a run's rows on disk until they are stored (about
    0.25 GB per million rows): a folder that must exist where the step runs (a volume on
    Kubernetes). ``null``: the system's temporary folder (``TMPDIR``, which also takes the
    CPU engine's edge lists for igraph, 0.06 GB at 4.3M pairs)."""


class ConfigFile(StrictModel):
    """The YAML file ``ANALYTICS_CONFIG`` points to."""

    networks: dict[str, dict[str, Any] | None] = Field(default_factory=lambda: {"torus": {}})
    labels_path: str | None = None
    typologies_path: str | None = None
    features: FeatureSettings = Field(default_factory=FeatureSettings)


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the key and the value."""


def _one_line(error: ValidationError, prefix: str) -> ConfigError:
    """The first problem of a pydantic error as ``<dotted key>: <message> (got <value>)``."""
    first = error.errors()[0]
    loc = [str(part) for part in (prefix, *first["loc"]) if part != ""]
    message = first["msg"].removeprefix("Value error, ")
    # A validator's message that starts with a key ("path: required ...") extends the path.
    keyed = re.match(r"^([a-z_][\w.]*): (.*)$", message)
    if keyed:
        key, message = keyed.groups()
        if loc and key.split(".")[0] == loc[-1]:
            loc = loc[:-1]
        loc.append(key)
    where = ".".join(loc)
    got = "" if first["type"] in ("value_error", "missing") else f" (got {first['input']!r})"
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    return ConfigError(f"{where}: {message}{got}")


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
        known = ", ".join(n.name for n in self.networks)
        raise LookupError(f"network: unknown network {name!r} (configured: {known})")


def parse_network(name: str, raw: dict[str, Any] | None) -> NetworkConfig:
    """One network from its YAML mapping; errors name ``networks.<name>.<key>``."""
    try:
        return NetworkConfig(name=name, **(raw or {}))
    except ValidationError as exc:
        raise _one_line(exc, f"networks.{name}") from None


def parse_file(raw: Any) -> ConfigFile:
    if not isinstance(raw, dict):
        raise ConfigError(f"config: expected a mapping at the top level, got {raw!r}")
    try:
        return ConfigFile(**raw)
    except ValidationError as exc:
        raise _one_line(exc, "") from None


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
            dsn=env.get(CLICKHOUSE_VARIABLES["dsn"]) or f"chdb://{home / 'chdb'}",
            cluster=env.get(CLICKHOUSE_VARIABLES["cluster"], ""),
        )
        lake = LakeLocation(
            url=env.get("ANALYTICS_LAKE_URL") or str(home / "lake"),
            region=_region(env),
            endpoint_url=env.get(LAKE_VARIABLES["endpoint_url"], ""),
        )
    config_path = env.get("ANALYTICS_CONFIG") or str(home / "config.yaml")
    raw: dict[str, Any] = {}
    if Path(config_path).exists():
        raw = yaml.load(Path(config_path).read_text(), Loader=_DatesAsText) or {}
    elif env.get("ANALYTICS_CONFIG"):
        raise FileNotFoundError(f"ANALYTICS_CONFIG: no such file {config_path!r}")
    if env.get("ANALYTICS_FEATURE_ENGINE"):
        raw["features"] = {**(raw.get("features") or {}), "engine": env["ANALYTICS_FEATURE_ENGINE"]}
    file = parse_file(raw)
    networks = tuple(parse_network(name, body) for name, body in file.networks.items())
    return Settings(
        home=home,
        clickhouse=warehouse,
        lake=lake,
        profile=profile,
        executor=executor,
        networks=networks,
        labels_path=file.labels_path,
        typologies_path=file.typologies_path,
        features=file.features,
    )


def _region(env: dict[str, str]) -> str:
    return env.get(LAKE_VARIABLES["region"]) or env.get("AWS_DEFAULT_REGION") or ""


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


CLICKHOUSE_VARIABLES: dict[str, str] = {
    "dsn": "ANALYTICS_CLICKHOUSE_DSN",
    "host": "CLICKHOUSE_HOST",
    "port": "CLICKHOUSE_PORT",
    "username": "CLICKHOUSE_USER",
    "password": "CLICKHOUSE_PASSWORD",
    "database": "CLICKHOUSE_DATABASE",
    "secure": "CLICKHOUSE_SECURE",
    "cluster": "CLICKHOUSE_CLUSTER",
}
"""The environment variable of each warehouse connection field (``ClickHouseTarget`` here,
``dg.EnvVar`` of ``ClickHouseResource`` in ``lib/platform.py``): named once."""

LAKE_VARIABLES: dict[str, str] = {"region": "AWS_REGION", "endpoint_url": "AWS_ENDPOINT_URL"}
"""Likewise for the lake's S3 fields (the bucket and prefix form its URL)."""


def production_clickhouse(env: dict[str, str]) -> ClickHouseTarget:
    """The warehouse of the production profile, from ``CLICKHOUSE_*`` variables."""
    var = CLICKHOUSE_VARIABLES
    cluster = env.get(var["cluster"], "")
    if env.get(var["dsn"]):
        return ClickHouseTarget(dsn=env[var["dsn"]], cluster=cluster)
    port = env.get(var["port"], "")
    if port and not port.isdigit():
        raise ValueError(f"{var['port']}: expected a port number, got {port!r}")
    return ClickHouseTarget(
        host=_required(env, var["host"]),
        port=int(port or 0),
        username=env.get(var["username"]) or "default",
        password=env.get(var["password"], ""),
        database=env.get(var["database"]) or "default",
        secure=_flag(env, var["secure"]),
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
        endpoint_url=env.get(LAKE_VARIABLES["endpoint_url"], ""),
    )
