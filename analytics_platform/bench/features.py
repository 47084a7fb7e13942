"""``analytics-platform bench features``: the feature pipeline per engine, timed per stage.

A synthetic window of N transfers over M addresses is generated once (cached as Parquet under
the bench folder). Each engine then runs in its own process, so its peak RSS is its own:
arrow in (the window's transfers in memory), the daily pieces (``daily_edges`` and
``address_activity``, the per-day work of the daily assets), the window's whole feature
catalog, arrow out. The NetworkX baseline runs the same way, on the same input.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from analytics_platform.bench.memory import peak_rss_bytes
from analytics_platform.engines.base import GraphEngine, GraphParams
from analytics_platform.engines.timing import StageTimer
from analytics_platform.storage.spill import SpillSettings

ENGINES = ("cpu", "gpu", "warehouse", "networkx")
"""``warehouse``: the window reduced by SQL in embedded ClickHouse (``storage.window_sql``),
the graph algorithms on the CPU engine; its daily pieces are loaded into the store first."""
START = date(2026, 1, 1)


@dataclass(frozen=True)
class BenchInput:
    transfers: int
    addresses: int
    days: int
    seed: int

    @property
    def name(self) -> str:
        return f"features-{self.transfers}-{self.addresses}-{self.days}d-s{self.seed}"

    @property
    def last_day(self) -> date:
        return START + timedelta(days=self.days - 1)


@dataclass
class EngineResult:
    engine: str
    status: str  # ok | failed | timeout | unavailable
    seconds: float | None = None
    window_seconds: float | None = None  # without the daily pieces and the imports (what one
    # more day costs)
    cpu_seconds: float | None = None  # the worker's CPU time, every thread's
    window_cpu_seconds: float | None = None  # of which in the window: against window_seconds,
    # how many cores the window kept busy
    pieces_peak_rss_bytes: int | None = None  # peak RSS once the daily pieces were written
    # (the warehouse engine: its child's, which wrote the pieces and loaded the warehouse)
    stages: dict[str, float] = field(default_factory=dict)
    stage_peak_rss_bytes: dict[str, int] = field(default_factory=dict)  # while each ran
    stage_cpu_seconds: dict[str, float] = field(default_factory=dict)  # the worker's, while
    # each ran (stages beside each other count the same CPU)
    plans: dict[str, str] = field(default_factory=dict)  # stage -> where its plans ran
    peak_rss_bytes: int | None = None
    transfers_per_second: float | None = None
    rows: int | None = None
    graph_cut: dict | None = None  # the window's pairs over the edge budget: pairs, kept, floor
    detail: str = ""


CHUNK_TRANSFERS = 12_000_000
"""The input is generated and written in spans of days of at most about this many transfers
(one span up to it: the same data as before spans existed), so 100M transfers never need to
be in memory together."""


@dataclass(frozen=True)
class WindowOptions:
    """How the benchmarked window is computed: its length in days, the sampled betweenness's
    sources, the graph's edge budget (None: none) and the warehouse's memory settings."""

    window: int = 90
    samples: int = 16
    max_edges: int | None = None
    spill: SpillSettings = field(default_factory=SpillSettings)

    def graph_params(self) -> GraphParams:
        return GraphParams(betweenness_samples=self.samples, max_edges=self.max_edges)

    def to_json(self) -> str:
        """The options as one JSON argument (the worker's command line)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WindowOptions:
        values = json.loads(text)
        return cls(**{**values, "spill": SpillSettings(**values["spill"])})


def prepare_input(spec: BenchInput, folder: Path) -> Path:
    """Generate (or reuse) the window's transfers (``transfers/part-*.parquet``, one file per
    span of days) and labels as Parquet; returns the folder."""
    from analytics_platform.domain.synthetic import SyntheticConfig, generate

    target = folder / spec.name
    if (target / "transfers" / "_done").exists():
        return target
    shutil.rmtree(target / "transfers", ignore_errors=True)
    (target / "transfers").mkdir(parents=True)
    per_day = max(1, spec.transfers // spec.days)
    spans = max(1, -(-spec.transfers // CHUNK_TRANSFERS))
    span_days = -(-spec.days // spans)
    for i, first in enumerate(range(0, spec.days, span_days)):
        t0 = time.perf_counter()
        net = generate(
            SyntheticConfig(
                start=START + timedelta(days=first),
                days=min(span_days, spec.days - first),
                addresses=spec.addresses,
                transfers_per_day=per_day,
                patterns_per_day=1,
                seed=spec.seed,
                stream=None if spans == 1 else i,
            )
        )
        net.transfers.drop("tx_hash", "block_number").write_parquet(
            target / "transfers" / f"part-{i:04d}.parquet"
        )
        if i == 0:  # the service addresses' labels: the same in every span
            net.labels.select("address", "category").write_parquet(target / "labels.parquet")
        print(
            f"  input: days {first + 1}-{first + net.transfers['date'].n_unique()} of "
            f"{spec.days}, {net.transfers.height:,} transfers "
            f"({time.perf_counter() - t0:.1f}s)",
            file=sys.stderr,
            flush=True,
        )
        del net
    (target / "transfers" / "_done").touch()
    return target


def _transfers(folder: Path) -> pl.LazyFrame:
    return pl.scan_parquet(folder / "transfers" / "part-*.parquet")


def run_engine(engine: str, folder: Path, options: WindowOptions, out: Path | None) -> dict:
    """One engine over the prepared input, in this process (the worker side)."""
    from analytics_platform.bench.memory import MemoryTimeline

    source = _transfers(folder)
    days = sorted(source.select(pl.col("date").unique()).collect()["date"])
    n_transfers = source.select(pl.len()).collect().item()
    memory = MemoryTimeline()

    def heard(name: str, seconds: float) -> None:
        memory.stage_ended(name, seconds)
        peak = memory.stage_peaks[name] / 2**30
        line = f"  {engine}: {name} {seconds:.2f}s, peak {peak:.2f} GiB"
        print(line, file=sys.stderr, flush=True)

    timer = StageTimer(on_stage=heard)
    start, cpu_start = time.perf_counter(), time.process_time()
    with memory.sampling():
        with timer.stage("imports"):
            graph_engine = _load_modules(engine)
        cuts: list = []
        features, pieces_peak = _engine_window(
            engine, graph_engine, folder, days, options, timer, cuts
        )
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    if out is not None:
        features.write_parquet(out)
    apart = ("daily_pieces", "warehouse_load", "imports")
    return asdict(
        EngineResult(
            engine=engine,
            status="ok",
            seconds=seconds,
            stages=timer.seconds,
            stage_peak_rss_bytes=memory.stage_peaks,
            stage_cpu_seconds=timer.cpu_seconds,
            plans={stage: timer.plan_devices(stage) for stage in timer.plans},
            peak_rss_bytes=peak_rss_bytes(),
            pieces_peak_rss_bytes=pieces_peak,
            # What one more day costs: without writing the daily pieces (or loading them),
            # and without the imports a step process has done before its asset runs.
            window_seconds=seconds - sum(timer.seconds.get(s, 0.0) for s in apart),
            cpu_seconds=cpu_seconds,
            window_cpu_seconds=cpu_seconds - sum(timer.cpu_seconds.get(s, 0.0) for s in apart),
            transfers_per_second=n_transfers / seconds if seconds else None,
            rows=features.height,
            graph_cut={k: v for k, v in asdict(cuts[0]).items() if k not in ("day", "window")}
            if cuts
            else None,
        )
    )


def _load_modules(engine: str) -> GraphEngine | None:
    """The modules ``engine``'s window runs, and the graph engine it runs on (None for the
    baseline; the warehouse path runs its graph algorithms on the CPU engine): 3.7 s for the
    warehouse at 2026-12-07 (networkx, igraph, the pipeline, chDB), which the window's figure
    used to include; a Dagster step process has them loaded before its asset runs."""
    if engine == "networkx":
        import analytics_platform.bench.networkx_baseline  # noqa: F401

        return None
    import analytics_platform.domain.features  # noqa: F401
    from analytics_platform.engines.choice import get_engine

    graph_engine = get_engine(engine.replace("warehouse", "cpu"))
    if engine == "warehouse":
        import analytics_platform.pipeline.features  # noqa: F401
        import analytics_platform.storage.clickhouse  # noqa: F401
    return graph_engine


def _engine_window(
    engine: str,
    graph_engine: GraphEngine | None,
    folder: Path,
    days: list,
    options: WindowOptions,
    timer: StageTimer,
    cuts: list,
) -> tuple[pl.DataFrame, int | None]:
    """The last day's window features by ``engine`` (its graph algorithms on
    ``graph_engine``), and the peak RSS once the daily pieces were written (None for the
    baseline). A warehouse window over the edge budget is appended to ``cuts``."""
    from analytics_platform.domain.features import window_features

    source, day, window = _transfers(folder), days[-1], options.window
    labels = pl.read_parquet(folder / "labels.parquet")
    # Arrow in: the GPU engine and the baseline get the whole window in memory. The CPU and
    # warehouse paths read one day at a time, as the daily assets do, which bounds memory.
    transfers = source.collect() if engine in ("gpu", "networkx") else None
    if engine == "networkx":
        from analytics_platform.bench.networkx_baseline import baseline_features

        return baseline_features(transfers, labels, day=day, window=window, timer=timer), None
    assert graph_engine is not None  # every engine but the baseline has one
    if engine == "warehouse":
        return _warehouse_window(folder, days, labels, options, graph_engine, timer, cuts)
    pieces = _daily_pieces(folder, engine, graph_engine, source, days, transfers, timer)
    del transfers
    pieces_peak = peak_rss_bytes()
    features = window_features(
        pl.scan_parquet(pieces / "daily_edges" / "*.parquet"),
        pl.scan_parquet(pieces / "address_activity" / "*.parquet"),
        labels,
        network="bench",
        day=day,
        window=window,
        engine=graph_engine,
        params=options.graph_params(),
        timer=timer,
    )
    return features, pieces_peak


def _warehouse_window(
    folder: Path,
    days: list,
    labels: pl.DataFrame,
    options: WindowOptions,
    graph_engine,
    timer: StageTimer,
    cuts: list,
) -> tuple[pl.DataFrame, int | None]:
    """The daily pieces written and loaded into an embedded warehouse by a child process (as
    the daily assets write them, in other steps: this process's peak RSS is the window's),
    then the window's features reduced there. Returns the features and the child's peak.

    The loaded store is kept beside the input (``warehouse-ch.loaded`` marks it complete) and
    a later run reuses it, with no child peak; delete the marker to load again."""
    import multiprocessing

    from analytics_platform.domain.dtypes import TIMESTAMP
    from analytics_platform.pipeline.features import features_in_warehouse
    from analytics_platform.storage import clickhouse as ch

    store, loaded = folder / "warehouse-ch", folder / "warehouse-ch.loaded"
    child_peak = None
    if loaded.exists():  # 100M transfers take 15 minutes to write and load
        print(f"  warehouse: reusing the loaded store ({loaded})", file=sys.stderr, flush=True)
    else:
        shutil.rmtree(store, ignore_errors=True)
        context = multiprocessing.get_context("spawn")
        replies = context.Queue()
        loader = context.Process(target=_pieces_into_warehouse, args=(folder, days, store, replies))
        loader.start()
        stages, child_peak = replies.get()
        loader.join()
        if loader.exitcode != 0:
            raise RuntimeError(f"warehouse load: exit status {loader.exitcode}")
        for name, seconds in stages.items():
            timer.seconds[name] = seconds
        loaded.touch()
    # The labels as the address_labels asset keeps them: valid throughout, still open.
    history = labels.with_columns(
        pl.lit(0).cast(TIMESTAMP).alias("valid_from"), pl.lit(None, TIMESTAMP).alias("valid_to")
    )
    features = features_in_warehouse(
        lambda: ch.session(f"chdb://{store}"), "bench", history, network="bench",
        days=[days[-1]], windows=(options.window,), engine=graph_engine,
        params=options.graph_params(), timer=timer, in_process=True, spill=options.spill,
        cuts=cuts,
    )  # fmt: skip
    return features, child_peak


def _pieces_into_warehouse(folder: Path, days: list, store: Path, replies) -> None:
    """The child of :func:`_warehouse_window`: the daily pieces one day at a time, then
    ``daily_edges`` and ``address_activity`` from their Parquet into ``store``."""
    from analytics_platform.engines.choice import get_engine
    from analytics_platform.storage import clickhouse as ch
    from analytics_platform.storage.tables import spec

    timer = StageTimer(
        on_stage=lambda name, s: print(f"  warehouse: {name} {s:.2f}s", file=sys.stderr, flush=True)
    )
    source = _transfers(folder)
    pieces = _daily_pieces(folder, "warehouse", get_engine("cpu"), source, days, None, timer)
    with timer.stage("warehouse_load"), ch.session(f"chdb://{store}") as client:
        for table in ("daily_edges", "address_activity"):
            ch.ensure_table(client, "bench", spec(table).ddl("bench", ""))
            columns = ", ".join(f"`{c}`" for c in spec(table).schema)
            client.command(
                f"INSERT INTO bench.{table} ({columns}) SELECT {columns} "
                "FROM file({files:String}, Parquet)",
                parameters={"files": str(pieces / table / "*.parquet")},
            )
    shutil.rmtree(pieces)  # in the store now (14 GB of Parquet at 100M transfers)
    replies.put((timer.seconds, peak_rss_bytes()))


def _daily_pieces(folder: Path, engine: str, graph_engine, source: pl.LazyFrame, days: list,
                  transfers: pl.DataFrame | None, timer: StageTimer) -> Path:  # fmt: skip
    """The window's ``daily_edges`` and ``address_activity`` written to Parquet under
    ``folder`` (one file per batch: the whole window, or one day at a time without
    ``transfers``), every asset priced every day; the folder."""
    from analytics_platform.domain.activity import aggregate_address_activity
    from analytics_platform.domain.edges import aggregate_daily_edges

    pieces = folder / f"pieces-{engine}"
    shutil.rmtree(pieces, ignore_errors=True)
    for table in ("daily_edges", "address_activity"):
        (pieces / table).mkdir(parents=True)
    with timer.stage("daily_pieces"):
        batches = (
            [transfers]
            if transfers is not None
            else (source.filter(pl.col("date") == d).collect() for d in days)
        )
        # Every asset priced every day (USD columns computed, as a priced network's are).
        assets = source.select(pl.col("asset").unique()).collect()["asset"].to_list()
        prices = pl.DataFrame(
            [(d, a, 1.0) for d in days for a in assets],
            schema={"date": pl.Date, "asset": pl.String, "usd_price": pl.Float64},
            orient="row",
        )
        # Each batch's pieces go straight to files, as the daily assets write partitions.
        for i, batch in enumerate(batches):
            aggregate_daily_edges(batch, prices=prices, engine=graph_engine).write_parquet(
                pieces / "daily_edges" / f"part-{i:04d}.parquet"
            )
            aggregate_address_activity(batch, engine=graph_engine).write_parquet(
                pieces / "address_activity" / f"part-{i:04d}.parquet"
            )
    return pieces


def run_bench(
    spec: BenchInput,
    engines: list[str],
    *,
    folder: Path,
    options: WindowOptions,
    timeout_s: float,
) -> dict:
    """Prepare the input, run each engine in a subprocess, and compare them."""
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise ValueError(f"engines: unknown {unknown}; choose from {', '.join(ENGINES)}")
    print(
        f"bench features: {spec.transfers:,} transfers, {spec.addresses:,} addresses, "
        f"{spec.days} days",
        file=sys.stderr,
        flush=True,
    )
    t0 = time.perf_counter()
    data = prepare_input(spec, folder)
    print(f"  input ready in {time.perf_counter() - t0:.1f}s: {data}", file=sys.stderr, flush=True)
    results = []
    for engine in engines:
        if engine == "gpu":
            from analytics_platform.engines.gpu import gpu_unavailable_reason

            reason = gpu_unavailable_reason()
            if reason:
                results.append(asdict(EngineResult("gpu", "unavailable", detail=reason)))
                print(f"  gpu: skipped ({reason})", file=sys.stderr, flush=True)
                continue
        results.append(_run_worker(engine, data, options, timeout_s))
    by_engine = {r["engine"]: r for r in results}
    base = by_engine.get("networkx")
    for r in results:
        if r["status"] == "ok" and base and base["status"] == "ok" and r["engine"] != "networkx":
            r["speedup_vs_networkx"] = base["seconds"] / r["seconds"]
    cpu = by_engine.get("cpu")
    parity = {}
    for other in ("gpu", "warehouse"):
        r = by_engine.get(other)
        if cpu and r and cpu["status"] == r["status"] == "ok":
            r["speedup_vs_cpu"] = cpu["seconds"] / r["seconds"]
            parity[other] = _parity(data, other)
    return {
        "parity": parity,
        "benchmark": "features",
        "input": {**asdict(spec), "window_days": options.window},
        "betweenness_samples": {"cpu": options.samples, "gpu": options.samples, "networkx": 1000},
        "max_graph_edges": options.max_edges,
        "spill_memory_ratio": options.spill.memory_ratio,
        "addresses_per_pass": options.spill.addresses_per_pass,
        "machine": {"cpus": os.cpu_count()},
        "results": results,
    }


def _parity(data: Path, other: str) -> dict:
    """The CPU engine's feature frame and ``other``'s compared column by column
    (``bench.parity``)."""
    from analytics_platform.bench.parity import compare_features

    report = compare_features(
        pl.read_parquet(data / "features-cpu.parquet"),
        pl.read_parquet(data / f"features-{other}.parquet"),
    )
    return {
        "ok": report.ok,
        "rows": report.rows,
        "community_ari": report.community_ari,
        "mismatches": report.mismatches,
    }


def _run_worker(engine: str, data: Path, options: WindowOptions, timeout_s: float) -> dict:
    result_file = data / f"result-{engine}.json"
    result_file.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "analytics_platform.bench.features",
        engine,
        str(data),
        str(result_file),
        options.to_json(),
    ]
    try:
        # The worker's progress goes to stderr, its result to result_file.
        proc = subprocess.run(cmd, timeout=timeout_s, stdout=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        print(f"  {engine}: timed out after {timeout_s:.0f}s", file=sys.stderr, flush=True)
        return asdict(EngineResult(engine, "timeout", detail=f"over {timeout_s:.0f}s"))
    if not result_file.exists():
        return asdict(EngineResult(engine, "failed", detail=f"exit status {proc.returncode}"))
    return json.loads(result_file.read_text())


def format_table(report: dict) -> str:
    lines = [
        f"{'engine':<9} {'status':<8} {'seconds':>8} {'window s':>9} {'window CPU s':>12} "
        f"{'peak RSS':>9} {'transfers/s':>12} {'vs networkx':>11} {'vs cpu':>7}"
    ]
    for r in report["results"]:
        rss = f"{r['peak_rss_bytes'] / 2**30:.2f} GiB" if r.get("peak_rss_bytes") else "-"
        secs = f"{r['seconds']:.2f}" if r.get("seconds") else "-"
        window = f"{r['window_seconds']:.2f}" if r.get("window_seconds") else "-"
        cpu = f"{r['window_cpu_seconds']:.2f}" if r.get("window_cpu_seconds") else "-"
        tps = f"{r['transfers_per_second']:,.0f}" if r.get("transfers_per_second") else "-"
        vs_nx = f"{r['speedup_vs_networkx']:.1f}x" if r.get("speedup_vs_networkx") else "-"
        vs_cpu = f"{r['speedup_vs_cpu']:.1f}x" if r.get("speedup_vs_cpu") else "-"
        lines.append(
            f"{r['engine']:<9} {r['status']:<8} {secs:>8} {window:>9} {cpu:>12} {rss:>9} {tps:>12} "
            f"{vs_nx:>11} {vs_cpu:>7}" + (f"  ({r['detail']})" if r.get("detail") else "")
        )
        if r.get("stages"):
            stages = ", ".join(f"{k} {v:.2f}" for k, v in r["stages"].items())
            lines.append(f"{'':<9} stages (s): {stages}")
        if r.get("stage_peak_rss_bytes"):
            peaks = ", ".join(f"{k} {v / 2**30:.2f}" for k, v in r["stage_peak_rss_bytes"].items())
            lines.append(f"{'':<9} peak RSS while each ran (GiB): {peaks}")
        if r.get("graph_cut"):
            cut = r["graph_cut"]
            lines.append(
                f"{'':<9} graph cut to the edge budget: {cut['kept']:,} of {cut['pairs']:,} "
                f"pairs (volume >= {cut['weight_floor']:.3g})"
            )
    for other, p in (report.get("parity") or {}).items():
        ari = f"{p['community_ari']:.3f}" if p["community_ari"] is not None else "-"
        verdict = "every column within tolerance" if p["ok"] else f"differs: {p['mismatches']}"
        lines.append(f"parity cpu/{other}: {p['rows']:,} rows, community ARI {ari}, {verdict}")
    return "\n".join(lines)


def _worker_main(argv: list[str]) -> int:
    engine, data, result_file, options = argv
    try:
        out = Path(data) / f"features-{engine}.parquet"  # for the CPU/GPU parity check
        report = run_engine(engine, Path(data), WindowOptions.from_json(options), out)
    except Exception as exc:  # reported as this engine's result; the benchmark goes on
        report = asdict(EngineResult(engine, "failed", detail=f"{type(exc).__name__}: {exc}"))
        Path(result_file).write_text(json.dumps(report))
        raise
    Path(result_file).write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
