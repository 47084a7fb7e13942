"""The configuration file: every mistake names its key (and value), nothing is silently ignored."""

from pathlib import Path

import pytest

from analytics_platform.config import ConfigError, load_settings


def settings_from(tmp_path: Path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_settings({"ANALYTICS_HOME": str(tmp_path), "ANALYTICS_CONFIG": str(path)})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("networks:\n  torus:\n    windos: [7]\n", "networks.torus.windos: unknown key (got [7])"),
        ("featurs:\n  engine: gpu\n", "featurs: unknown key"),
        (
            "networks:\n  torus:\n    reporting_threshold: {TOR: 10}\n",
            "networks.torus.reporting_threshold: unknown key",
        ),
        ("networks:\n  torus:\n    source: {pth: x}\n", "networks.torus.source.pth: unknown key"),
        (
            "networks:\n  torus:\n    windows: [7, thirty]\n",
            "networks.torus.windows.1: Input should be a valid integer",
        ),
        (
            "networks:\n  torus:\n    source: {kind: files}\n",
            "networks.torus.source.path: required when kind is 'files'",
        ),
        ("networks:\n  torus:\n    patterns: {min_fann: 3}\n", "networks.torus.patterns.min_fann"),
        (
            "networks:\n  torus:\n    start_date: 2026-13-01\n",
            "networks.torus.start_date: Input should be a valid date",
        ),
        (
            "features: {engine: tpu}\n",
            "features.engine: Input should be 'cpu' or 'gpu' (got 'tpu')",
        ),
        (
            "features: {spill_memory_ratio: 1.5}\n",
            "features.spill_memory_ratio: Input should be less than 1 (got 1.5)",
        ),
        (
            "features: {addresses_per_pass: 0}\n",
            "features.addresses_per_pass: Input should be greater than 0 (got 0)",
        ),
        (
            "networks:\n  torus:\n    reporting_thresholds: {TOR: -5}\n",
            "networks.torus.reporting_thresholds.TOR: Input should be greater than 0",
        ),
        (
            "networks:\n  torus:\n    patterns: {dormant_legs_only: [cycle]}\n",
            "networks.torus.patterns.dormant_legs_only: needs dormancy_days",
        ),
        (
            "networks:\n  torus:\n    dormancy_days: 30\n    relationship_days: 7\n",
            "networks.torus.relationship_days: needs dormancy_days and at least as many days, "
            "got relationship_days=7, dormancy_days=30",
        ),
        (
            "networks:\n  torus:\n    patterns: {cycle_order: backwards}\n",
            "networks.torus.patterns.cycle_order: expected time or any, got 'backwards'",
        ),
    ],
)
def test_a_mistake_names_the_key_and_value(tmp_path, text, message):
    with pytest.raises(ConfigError) as error:
        settings_from(tmp_path, text)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_valid_file_reads_every_section(tmp_path):
    settings = settings_from(
        tmp_path,
        "labels_path: labels.csv\n"
        "features: {engine: cpu, betweenness_samples: 8, spill_memory_ratio: 0.25,\n"
        "           addresses_per_pass: 500000, spill_folder: /mnt/spill}\n"
        "networks:\n"
        "  torus:\n"
        "    start_date: 2026-10-01\n"
        "    end_date: 2026-10-03\n"
        "    windows: [7, 30]\n"
        "    owners: ['team:compliance']\n"
        "    reporting_thresholds: {TOR: 10000}\n"
        "    patterns: {fan_window: 12}\n"
        "    source: {kind: kafka, topic: transfers, bootstrap_servers: 'b:9092'}\n",
    )
    net = settings.network("torus")
    assert (net.start_date.isoformat(), net.end_date.isoformat()) == ("2026-10-01", "2026-10-03")
    assert net.windows == (7, 30) and net.owners == ("team:compliance",)
    assert net.pattern_limits.fan_window.total_seconds() == 12 * 3600
    assert net.source.kind == "kafka" and net.source.kafka.topic == "transfers"
    assert settings.features.betweenness_samples == 8 and settings.labels_path == "labels.csv"
    assert settings.features.spill_memory_ratio == 0.25
    assert settings.features.addresses_per_pass == 500_000
    assert settings.features.spill_folder == "/mnt/spill"  # checked where the step runs


def test_patterns_read_the_longest_look_back_before_their_transfers(tmp_path):
    net = "networks:\n  torus:\n    pattern_span_days: 30\n    dormancy_days: 30\n"
    assert settings_from(tmp_path, net).networks[0].pattern_history_days == 60
    funnels = net + "    funnel_days: 365\n"
    assert settings_from(tmp_path, funnels).networks[0].pattern_history_days == 395
    remembered = funnels + "    relationship_days: 365\n"
    assert settings_from(tmp_path, remembered).networks[0].pattern_history_days == 730
