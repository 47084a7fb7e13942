"""Kafka access with confluent-kafka: end offsets (for the sensor) and reading ranges (for runs).

No consumer group is joined and nothing is committed: the sensor keeps offsets in its cursor,
runs ``assign()`` their start offsets and read until every partition reports end-of-partition.
Reading to EOF, not to the reported end offset, is what makes this right on brokers whose end
offsets lag (tansu reports the last batch's base offset + 1) as well as on Kafka itself.
Every call is bounded in time; a broker that stops answering fails the call with
:class:`BrokerUnavailable`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import polars as pl
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from analytics_platform.config import KafkaSourceConfig
from analytics_platform.kafka.messages import RAW_MESSAGES


class BrokerUnavailable(RuntimeError):
    """The broker did not answer in time, or reported an error that ends the read."""


def consumer_config(source: KafkaSourceConfig, env: dict[str, str] | None = None) -> dict:
    """librdkafka settings for ``source`` (secrets from the environment variables it names)."""
    import os

    env = os.environ if env is None else env
    config: dict[str, Any] = {
        "bootstrap.servers": source.servers(env),
        # Required by the client even though no group is joined and nothing is committed.
        "group.id": f"analytics-platform-{source.topic}",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
        "security.protocol": source.security_protocol,
        "socket.timeout.ms": 10_000,
        "session.timeout.ms": 6_000,
        "reconnect.backoff.max.ms": 2_000,
        "log_level": 3,
    }
    if source.sasl_mechanism:
        config["sasl.mechanism"] = source.sasl_mechanism
        config["sasl.username"] = source.sasl_username
        if source.sasl_password_env:
            if not env.get(source.sasl_password_env):
                raise ValueError(f"{source.sasl_password_env}: not set (source.sasl_password_env)")
            config["sasl.password"] = env[source.sasl_password_env]
    if source.ssl_ca_location:
        config["ssl.ca.location"] = source.ssl_ca_location
    return config


def end_offsets(source: KafkaSourceConfig, timeout_s: float = 10.0) -> dict[int, tuple[int, int]]:
    """Per partition of the topic, its (low, high) watermark offsets, within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    consumer = Consumer(consumer_config(source))
    try:
        try:
            meta = consumer.list_topics(source.topic, timeout=timeout_s)
        except KafkaException as exc:
            raise BrokerUnavailable(f"{source.servers()}: {exc}") from exc
        topic = meta.topics.get(source.topic)
        if topic is None or topic.error is not None:
            reason = topic.error if topic is not None else "unknown topic"
            raise BrokerUnavailable(f"topic {source.topic!r} on {source.servers()}: {reason}")
        out = {}
        for partition in sorted(topic.partitions):
            left = max(0.1, deadline - time.monotonic())
            try:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(source.topic, partition), timeout=left, cached=False
                )
            except KafkaException as exc:
                raise BrokerUnavailable(f"{source.servers()}: {exc}") from exc
            out[partition] = (low, high)
        return out
    finally:
        consumer.close()


_FATAL = {
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._AUTHENTICATION,
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
}


def read_batches(
    source: KafkaSourceConfig, starts: dict[int, int], batch_messages: int | None = None
) -> Iterator[pl.DataFrame]:
    """Messages from ``starts`` (partition -> first offset) to the end of every partition, as
    ``RAW_MESSAGES`` frames of at most ``batch_messages`` rows, in offset order per partition.

    Raises :class:`BrokerUnavailable` when the broker reports a fatal error or neither a message
    nor end-of-partition arrives for ``source.idle_timeout_s``.
    """
    size = batch_messages or source.batch_messages
    errors: list[KafkaError] = []
    config = consumer_config(source)
    config["error_cb"] = errors.append
    consumer = Consumer(config)
    try:
        consumer.assign([TopicPartition(source.topic, p, o) for p, o in sorted(starts.items())])
        pending = set(starts)
        rows: dict[str, list] = {"partition": [], "offset": [], "payload": []}
        last_progress = time.monotonic()
        while pending:
            fatal = [e for e in errors if e.fatal() or e.code() in _FATAL]
            if fatal:
                raise BrokerUnavailable(f"{source.servers()}: {fatal[0]}")
            if time.monotonic() - last_progress > source.idle_timeout_s:
                raise BrokerUnavailable(
                    f"{source.servers()}: no message or end of partition for "
                    f"{source.idle_timeout_s:.0f}s (partitions {sorted(pending)} unfinished; "
                    f"last error: {errors[-1] if errors else 'none'})"
                )
            for msg in consumer.consume(num_messages=min(size, 10_000), timeout=0.5):
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        pending.discard(msg.partition())
                        last_progress = time.monotonic()
                        continue
                    if err.fatal() or err.code() in _FATAL:
                        raise BrokerUnavailable(f"{source.servers()}: {err}")
                    errors.append(err)
                    continue
                last_progress = time.monotonic()
                pending.add(msg.partition())  # more data after an earlier EOF
                rows["partition"].append(msg.partition())
                rows["offset"].append(msg.offset())
                rows["payload"].append(msg.value())
                if len(rows["offset"]) >= size:
                    yield pl.DataFrame(rows, schema=RAW_MESSAGES)
                    rows = {"partition": [], "offset": [], "payload": []}
        if rows["offset"]:
            yield pl.DataFrame(rows, schema=RAW_MESSAGES)
    finally:
        consumer.close()
