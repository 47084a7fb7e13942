"""The feature window reduced in the warehouse (``storage.window_sql``, real chDB) gives the same
catalog as the polars plans: counts exactly, floats to 1e-9 relative, the same communities."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from analytics_platform.bench.parity import compare_features
from analytics_platform.domain.activity import aggregate_address_activity
from analytics_platform.domain.dtypes import TIMESTAMP
from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.domain.features import compute_address_features
from analytics_platform.domain.synthetic import SyntheticConfig, generate
from analytics_platform.engines import get_engine
from analytics_platform.engines.base import GraphParams
from analytics_platform.engines.timing import StageTimer
from analytics_platform.pipeline.features import features_in_warehouse
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage import window_sql
from analytics_platform.storage.tables import spec
from analytics_platform_tests.graphs import addr, transfers

WINDOWS = (1, 3, 7, 10)
PARAMS = GraphParams(betweenness_samples=64)


def _store(client, database: str, table: str, frame: pl.DataFrame) -> None:
    ch.ensure_table(client, database, spec(table).ddl(database, ""))
    days = sorted(frame["date"].unique())
    ch.replace_day_partitions(client, database, table, frame, days)


@pytest.fixture(scope="module")
def window(tmp_path_factory):
    """Ten days of a synthetic network with two assets (one unpriced on one day), labels,
    self-transfers and weekend days, stored in an embedded warehouse."""
    net = generate(
        SyntheticConfig(
            start=date(2026, 3, 2), days=10, addresses=700, transfers_per_day=1_200,
            second_asset="GEM", seed=3,
        )
    )  # fmt: skip
    t = net.transfers
    selfies = t.head(5).with_columns(
        pl.col("from_address").alias("to_address"),
        (pl.col("tx_hash") + "ff").alias("tx_hash"),
        pl.lit(5000).cast(t.schema["amount"]).alias("amount"),  # round: counted once per end
    )
    t = pl.concat([t, selfies])
    last = t["date"].max()
    prices = net.prices.filter(~((pl.col("asset") == "GEM") & (pl.col("date") == last)))
    edges = aggregate_daily_edges(t, prices=prices)
    activity = aggregate_address_activity(t)
    assert edges["amount_usd"].null_count() > 0
    assert (edges.filter(pl.col("from_address") == pl.col("to_address"))["round_count"] > 0).any()
    # As the address_labels asset keeps them: valid from long before the window, still open.
    labels = net.labels.select("address", "category").with_columns(
        pl.lit(datetime(2020, 1, 1, tzinfo=UTC)).cast(TIMESTAMP).alias("valid_from"),
        pl.lit(None, dtype=TIMESTAMP).alias("valid_to"),
    )
    dsn = f"chdb://{tmp_path_factory.mktemp('warehouse') / 'ch'}"
    with ch.session(dsn) as client:
        _store(client, "torus", "daily_edges", edges)
        _store(client, "torus", "address_activity", activity)
    return dsn, edges, activity, labels, last


def test_the_warehouse_window_gives_the_polars_catalog(window):
    dsn, edges, activity, labels, day = window
    engine = get_engine("cpu")
    polars_side = compute_address_features(
        edges, activity, labels.select("address", "category"), network="torus", day=day,
        windows=WINDOWS, engine=engine, params=PARAMS,
    )  # fmt: skip
    warehouse_side = features_in_warehouse(
        lambda: ch.session(dsn), "torus", labels, network="torus", days=[day], windows=WINDOWS,
        engine=engine, params=PARAMS, timer=StageTimer(),
    )  # fmt: skip
    with ch.session(dsn) as client:
        scratch = ch.query_frame(
            client, "SELECT name FROM system.tables WHERE name LIKE 'window_names_%'"
        )
    assert warehouse_side.schema == polars_side.schema
    assert sorted(warehouse_side["window_days"].unique()) == list(WINDOWS)
    report = compare_features(polars_side, warehouse_side, min_ari=1.0)
    assert report.rows == polars_side.height > 2_000
    assert report.ok, report.mismatches
    # Every id-keyed column came back for someone: nothing silently null.
    for column in ("active_hours", "out_volume_usd", "self_transfer_count", "asset_count"):
        assert warehouse_side[column].drop_nulls().sum() > 0, column
    assert scratch.height == 0  # the scratch table of ids is gone


def test_a_window_with_no_rows_is_empty(window):
    dsn, _, _, labels, day = window
    features = features_in_warehouse(
        lambda: ch.session(dsn), "torus", labels, network="torus",
        days=[day + timedelta(days=30)], windows=(7,), engine=get_engine("cpu"), params=PARAMS,
        timer=StageTimer(),
    )  # fmt: skip
    assert features.height == 0 and "pagerank" in features.columns


def test_a_session_reduces_several_small_days_and_a_day_is_the_same_in_any(window, monkeypatch):
    from analytics_platform.pipeline import features as pipeline_features

    dsn, _, _, labels, last = window
    days = [last - timedelta(days=i) for i in (3, 2, 1, 0)]
    opened = []

    def connect():
        opened.append(1)
        return ch.session(dsn)

    def run(day_list):
        return features_in_warehouse(
            connect, "torus", labels, network="torus", days=day_list, windows=(1, 3),
            engine=get_engine("cpu"), params=PARAMS, timer=StageTimer(),
        )  # fmt: skip

    together = run(days)
    assert len(opened) == 1  # four small days, one session (opening chDB is the cost)
    monkeypatch.setattr(pipeline_features, "SESSION_PIECE_ROWS", 1)
    opened.clear()
    apart = run(days)
    assert len(opened) == len(days)  # over the budget: a session per day
    alone = run([days[2]])
    # the same rows, counts exactly and floats to 1e-9 (chDB's sums may add in another order)
    assert compare_features(together, apart, min_ari=1.0).ok
    one_day = together.filter(pl.col("date") == days[2])
    assert compare_features(one_day, alone, min_ari=1.0).ok and alone.height == one_day.height


def test_a_large_window_reads_its_sums_while_its_graph_runs(window, monkeypatch):
    """A window of SUMS_BESIDE_GRAPH pairs: its graph algorithms start on the flows while the
    session reads the per-address sums (the graph waits here until they were read); the
    others run their graph once the session is closed. The same catalog either way."""
    from analytics_platform.pipeline import features as pipeline_features

    dsn, _, _, labels, day = window
    engine = get_engine("cpu")
    graph_features = engine.graph_features
    address_sums, sessions = window_sql.read_address_sums, [0]
    seen: dict[str, list] = {"graph": [], "sums": []}
    graph_started, sums_read = threading.Event(), threading.Event()

    @contextmanager
    def connect():
        with ch.session(dsn) as client:
            sessions[0] += 1
            yield client
            sessions[0] -= 1

    def spied_graph(*args):
        graph_started.set()
        seen["graph"].append((sessions[0], sums_read.wait(timeout=60) if beside else None))
        return graph_features(*args)

    def spied_sums(*args):
        seen["sums"].append(graph_started.wait(timeout=60) if beside else graph_started.is_set())
        sums_read.set()
        return address_sums(*args)

    monkeypatch.setattr(engine, "graph_features", spied_graph)
    monkeypatch.setattr(window_sql, "read_address_sums", spied_sums)

    def run() -> pl.DataFrame:
        graph_started.clear()
        sums_read.clear()
        return features_in_warehouse(
            connect, "torus", labels, network="torus", days=[day], windows=(10,),
            engine=engine, params=PARAMS, timer=StageTimer(), in_process=True,
        )  # fmt: skip

    beside = False
    after = run()
    assert seen == {"graph": [(0, None)], "sums": [False]}  # sums first, graph out of session
    monkeypatch.setattr(pipeline_features, "SUMS_BESIDE_GRAPH", (1, 10**9))
    beside, seen["graph"], seen["sums"] = True, [], []
    during = run()
    assert seen == {"graph": [(1, True)], "sums": [True]}  # both at once, in the session
    assert during.height == after.height > 0
    report = compare_features(after, during, min_ari=1.0)
    assert report.ok, report.mismatches


def test_embedded_sums_beside_the_graph_keep_to_half_the_cores(monkeypatch):
    w = window_sql.WarehouseWindow("torus", date(2026, 3, 1), date(2026, 3, 10))
    monkeypatch.setattr(window_sql.os, "cpu_count", lambda: 16)
    assert window_sql._sharing_cores(w).spill.settings()["max_threads"] == 8
    monkeypatch.setattr(window_sql.os, "cpu_count", lambda: 1)
    assert window_sql._sharing_cores(w).spill.settings()["max_threads"] == 1
    assert "max_threads" not in w.spill.settings()  # alone: every core
    chosen = replace(w, spill=window_sql.SpillSettings(threads=3))
    assert window_sql._sharing_cores(chosen) == chosen  # a thread count in the config stays


def test_names_flows_and_sums_are_one_row_per_address_or_pair(window):
    dsn, edges, _, _, day = window
    w = window_sql.WarehouseWindow("torus", day - timedelta(days=2), day)
    with ch.session(dsn) as client, window_sql.numbered_addresses(client, w) as names_table:
        names = window_sql.read_names(client, w, names_table)
        flows = window_sql.read_flows(client, w, names_table)
        every = window_sql.AddressRange(0, names.height)
        volume, temporal = window_sql.read_address_sums(client, w, names_table, every)
    in_window = edges.filter(pl.col("date") >= w.first)
    ends = pl.concat([in_window["from_address"], in_window["to_address"]]).unique().sort()
    assert names["address"].to_list() == ends.to_list()
    assert names["id"].to_list() == list(range(names.height))
    assert flows.select("s", "d").is_unique().all() and (flows["s"] != flows["d"]).all()
    assert (
        flows["count"].sum()
        == in_window.filter(pl.col("from_address") != pl.col("to_address"))["transfer_count"].sum()
    )
    assert volume["id"].to_list() == names["id"].to_list()
    assert 0 < temporal.height <= names.height and temporal["active_days"].min() >= 1
    assert temporal["id"].is_sorted() and temporal["id"].is_unique().all()


def test_the_addresses_are_matched_on_their_hashes_or_where_two_share_one_on_the_strings(
    window, monkeypatch, caplog
):
    """The statements match and group the addresses on a 64-bit hash, which gives the same
    pieces as the strings; where two of the window's addresses share a hash, on the strings."""
    dsn, _, _, _, day = window
    w = window_sql.WarehouseWindow("torus", day - timedelta(days=6), day)
    with ch.session(dsn) as client:
        hashed = window_sql.reduce_window(client, w)
        with window_sql.numbered_addresses(client, w) as names_table:
            assert window_sql.address_key(client, w, names_table).hashed
            # Two addresses given one hash: the window falls back to the strings, and says so.
            client.command(f"ALTER TABLE {names_table} UPDATE h = 7 WHERE id < 2")
            assert window_sql.address_key(client, w, names_table) == window_sql.BY_ADDRESS
            assert "2 addresses share their 64-bit hash" in caplog.text
        monkeypatch.setattr(window_sql, "address_key", lambda *_: window_sql.BY_ADDRESS)
        strings = window_sql.reduce_window(client, w)
    for name in ("names", "flows", "volume", "temporal"):
        assert getattr(hashed, name).equals(getattr(strings, name), null_equal=True), name
    assert hashed.volume.height == hashed.names.height > 0


def test_bad_identifiers_and_days_are_refused():
    with pytest.raises(ValueError, match="invalid database 'torus; DROP'"):
        window_sql.WarehouseWindow("torus; DROP", date(2026, 1, 1), date(2026, 1, 2))
    with pytest.raises(ValueError, match="last day 2026-01-01 is before first day 2026-01-02"):
        window_sql.WarehouseWindow("torus", date(2026, 1, 2), date(2026, 1, 1))


def test_days_past_the_warehouse_horizon_come_from_the_lake_once(window):
    """Days before a table's horizon are read from the lake and staged beside the table; the
    warehouse may still hold them (its TTL merge not run yet) and they are not counted twice."""
    dsn, edges, activity, labels, day = window
    engine, horizon = get_engine("cpu"), day - timedelta(days=3)
    frames = {"daily_edges": edges, "address_activity": activity}
    read = []

    def read_lake(table: str, first: date, last: date) -> pl.DataFrame:
        read.append((table, first, last))
        return frames[table].filter(pl.col("date").is_between(first, last))

    staged_side = features_in_warehouse(
        lambda: ch.session(dsn), "torus", labels, network="torus", days=[day], windows=(1, 7),
        engine=engine, params=PARAMS, timer=StageTimer(),
        horizons={"daily_edges": horizon, "address_activity": horizon}, read_lake=read_lake,
    )  # fmt: skip
    polars_side = compute_address_features(
        edges, activity, labels.select("address", "category"), network="torus", day=day,
        windows=(1, 7), engine=engine, params=PARAMS,
    )  # fmt: skip
    first = day - timedelta(days=6)
    # Read once for the day's widest window; the 1-day window needs none of it.
    assert sorted(read) == [
        ("address_activity", first, horizon - timedelta(days=1)),
        ("daily_edges", first, horizon - timedelta(days=1)),
    ]
    report = compare_features(polars_side, staged_side, min_ari=1.0)
    assert report.ok, report.mismatches


def test_on_a_cluster_the_statements_read_every_shard_through_the_all_tables(tmp_path, window):
    """chDB cannot host a multi-shard cluster (its shards would need a TCP server), so the
    ``<table>_all`` tables here are ``Merge`` tables over two shard tables that split the rows
    by sender, as a ``Distributed`` table over two shards does: the statements a cluster runs
    give the same catalog."""
    _, edges, activity, labels, day = window
    dsn = f"chdb://{tmp_path / 'sharded'}"
    with ch.session(dsn) as client:
        for table, frame, key in (
            ("daily_edges", edges, "from_address"),
            ("address_activity", activity, "address"),
        ):
            shard = pl.col(key).hash(seed=0) % 2
            for i in (0, 1):
                name = f"{table}_shard{i}"
                ddl = spec(table).ddl("torus", "")[0].replace(f"`{table}`", f"`{name}`", 1)
                ch.ensure_table(client, "torus", [ddl])
                part = frame.filter(shard == i)
                ch.replace_day_partitions(
                    client, "torus", name, part, sorted(frame["date"].unique())
                )
            client.command(
                f"CREATE TABLE torus.{table}_all AS torus.{table}_shard0 "
                f"ENGINE = Merge('torus', '^{table}_shard[01]$')"
            )
    sharded = features_in_warehouse(
        lambda: ch.session(dsn), "torus", labels, network="torus", days=[day], windows=(7,),
        engine=get_engine("cpu"), params=PARAMS, timer=StageTimer(), cluster="analytics",
    )  # fmt: skip
    polars_side = compute_address_features(
        edges, activity, labels.select("address", "category"), network="torus", day=day,
        windows=(7,), engine=get_engine("cpu"), params=PARAMS,
    )  # fmt: skip
    report = compare_features(polars_side, sharded, min_ari=1.0)
    assert report.rows == polars_side.height and report.ok, report.mismatches


def test_a_window_over_the_edge_budget_runs_its_graph_on_the_heaviest_pairs(window):
    dsn, _, _, labels, day = window
    cuts: list = []

    def run(max_edges, cuts=None):
        return features_in_warehouse(
            lambda: ch.session(dsn), "torus", labels, network="torus", days=[day],
            windows=(1, 7), engine=get_engine("cpu"),
            params=GraphParams(betweenness_samples=64, max_edges=max_edges), timer=StageTimer(),
            cuts=cuts,
        ).sort("window_days", "address")  # fmt: skip

    full, budgeted = run(None), run(2_000, cuts)
    (cut,) = cuts  # the 1-day window stays under the budget
    assert (cut.day, cut.window, cut.kept) == (day, 7, 2_000) and cut.pairs > 2_000
    assert cut.weight_floor > 0
    assert budgeted.height == full.height  # every address still has its row
    graph_columns = {"pagerank", "hub_score", "authority_score", "component_id", "community_id",
                     "component_size", "community_size", "kcore", "triangles", "clustering",
                     "betweenness"}  # fmt: skip
    for column in set(full.columns) - graph_columns:  # the budget touches the graph only
        _assert_same(budgeted[column], full[column])
    week = budgeted.filter(pl.col("window_days") == 7)
    assert (
        week["component_size"].max()
        < full.filter(pl.col("window_days") == 7)["component_size"].max()
    )
    assert (week["pagerank"] == 0).sum() > 0  # addresses without a kept pair: outside the graph
    again = run(2_000)  # the same pairs kept every time
    for column in graph_columns:
        _assert_same(budgeted[column], again[column])


def _assert_same(a: pl.Series, b: pl.Series) -> None:
    """Equal; floats to 1e-9 relative (a float sum's value depends on its order)."""
    if a.dtype == pl.Float64:
        assert np.allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9, equal_nan=True), a.name
    else:
        assert a.equals(b), a.name


def _external_events(client) -> dict[str, int]:
    """How many parts ClickHouse has written to disk so far, per kind (aggregation, sort)."""
    sql = "SELECT event, value FROM system.events WHERE event LIKE 'External%WritePart'"
    frame = ch.query_frame(client, sql, {})
    return dict(zip(frame["event"], frame["value"], strict=True)) if frame.width else {}


def test_a_window_that_spills_to_disk_gives_the_same_catalog(window):
    """A memory ratio small enough that the statements spill changes no feature. At this
    size it is the joins that write parts to disk (``ExternalJoinWritePart``)."""
    dsn, edges, activity, labels, day = window
    engine = get_engine("cpu")

    def features(spill):
        return features_in_warehouse(
            lambda: ch.session(dsn), "torus", labels, network="torus", days=[day],
            windows=(10,), engine=engine, params=PARAMS, timer=StageTimer(), spill=spill,
        )  # fmt: skip

    in_memory = features(window_sql.SpillSettings())
    with ch.session(dsn) as client:
        before = _external_events(client)
        spilled = features(window_sql.SpillSettings(memory_ratio=2e-5))
        after = _external_events(client)
    assert sum(after.values()) > sum(before.values())
    report = compare_features(in_memory, spilled)
    assert report.ok, report.mismatches


def test_a_window_reduced_in_address_ranges_gives_the_same_pieces(window):
    """The flows and sums computed in passes over ranges of 97 addresses (the window has
    about 700) are the one-pass pieces: the same rows in the same id order."""
    dsn, _, _, _, day = window
    w = window_sql.WarehouseWindow("torus", day - timedelta(days=9), day)
    with ch.session(dsn) as client:
        whole = window_sql.reduce_window(client, w)
        ranged = replace(w, spill=window_sql.SpillSettings(addresses_per_pass=97))
        passes = window_sql.reduce_window(client, ranged)
    names = whole.names
    ranges = window_sql.address_ranges(names, 97)
    assert len(ranges) == -(-names.height // 97) > 5
    assert ranges[0].low is None and ranges[-1].high is None
    assert [r.stop_id for r in ranges[:-1]] == [r.first_id for r in ranges[1:]]
    assert passes.names.equals(whole.names)
    for part, key in (("flows", ["s", "d"]), ("volume", ["id"]), ("temporal", ["id"])):
        a, b = getattr(whole, part), getattr(passes, part)
        if part == "temporal":  # its rows come back in no particular order
            a, b = a.sort(key), b.sort(key)
        assert a.columns == b.columns and a.height == b.height
        for column in a.columns:
            _assert_same(a[column], b[column])
    assert passes.volume["id"].to_list() == list(range(names.height))


def test_address_ranges_cut_the_sorted_names():
    names = pl.DataFrame({"id": [0, 1, 2, 3, 4], "address": ["a", "b", "c", "d", "e"]})
    assert window_sql.address_ranges(names, 5) == [window_sql.AddressRange(0, 5)]
    assert window_sql.address_ranges(names, 2) == [
        window_sql.AddressRange(0, 2, None, "c"),
        window_sql.AddressRange(2, 4, "c", "e"),
        window_sql.AddressRange(4, 5, "e", None),
    ]
    middle = window_sql.AddressRange(2, 4, "c", "e")
    assert middle.where("address") == "`address` >= {low:String} AND `address` < {high:String}"
    assert middle.parameters == {"first_id": 2, "stop_id": 4, "low": "c", "high": "e"}
    with pytest.raises(ValueError, match="addresses_per_pass: expected a positive count, got 0"):
        window_sql.SpillSettings(addresses_per_pass=0)


def test_graph_and_aggregations_in_sequence_or_in_ranges_give_the_same_catalog(window, monkeypatch):
    """Above OVERLAP_MAX_PAIRS the graph algorithms no longer run beside the aggregations,
    above FLOW_PAIRS_PER_RANGE the flows' features are computed per range of addresses; the
    features are the same. The flows are handed over: a second use is refused."""
    from analytics_platform.domain import features as domain_features

    dsn, _, _, labels, day = window
    w = window_sql.WarehouseWindow("torus", day - timedelta(days=9), day)
    with ch.session(dsn) as client:
        pieces = window_sql.reduce_window(client, w)
    current = labels.select("address", "category")
    engine, graph_threads = get_engine("cpu"), []
    graph_features = engine.graph_features

    def spied(*args):
        graph_threads.append(threading.current_thread() is threading.main_thread())
        return graph_features(*args)

    monkeypatch.setattr(engine, "graph_features", spied)

    def catalog() -> tuple[pl.DataFrame, domain_features.ReducedWindow]:
        handed = domain_features.ReducedWindow(
            pieces.names, pieces.flows, lambda: (pieces.volume, pieces.temporal)
        )
        features = domain_features.features_from_pieces(
            handed, current, network="torus", day=day, window=10, engine=engine,
            params=PARAMS, timer=StageTimer(),
        )  # fmt: skip
        return features, handed

    beside, handed = catalog()
    assert handed.flows is None
    with pytest.raises(ValueError, match="flows were already taken"):
        domain_features.features_from_pieces(
            handed, current, network="torus", day=day, window=10, engine=engine,
            params=PARAMS, timer=StageTimer(),
        )  # fmt: skip
    monkeypatch.setattr(domain_features, "OVERLAP_MAX_PAIRS", pieces.flows.height - 1)
    after, _ = catalog()
    assert graph_threads == [False, True]  # beside the aggregations, then in the main thread
    assert beside.height == pieces.names.height > 0
    report = compare_features(beside, after, min_ari=1.0)
    assert report.ok, report.mismatches
    # The flows' features over seven ranges of addresses: the same catalog.
    monkeypatch.setattr(domain_features, "FLOW_PAIRS_PER_RANGE", pieces.flows.height // 7)
    ranges = domain_features._flow_ranges(pieces.flows)
    assert len(ranges) >= 7
    out_rows = sum(r.out.collect().height for r in ranges)
    in_rows = sum(r.into.collect().height for r in ranges)
    assert out_rows == in_rows == pieces.flows.height  # every flow on each side once
    ranged, _ = catalog()
    report = compare_features(beside, ranged, min_ari=1.0)
    assert report.ok, report.mismatches


def test_the_sums_do_not_depend_on_the_order_of_the_rows(tmp_path):
    """In floats 1e16 + 1 + 1 is 1e16 when the large amount comes first and 1e16 + 2 when it
    comes last. ClickHouse's threads and a table's parts decide that order, and a day's
    features differed in their last bits between two runs at 10M transfers; the window's
    sums are exact, so the order the rows come in cannot change them."""
    big, small = 10**16, 1
    # addr(1) < addr(2) < addr(3): the large amount is the first row of the sender's edges.
    rows = [(0, 1, big, 1), (0, 2, small, 2), (0, 3, small, 3), (4, 0, small, 4)]
    t = transfers(rows)
    with ch.session(f"chdb://{tmp_path / 'ch'}") as client:
        _store(client, "torus", "daily_edges", aggregate_daily_edges(t))
        _store(client, "torus", "address_activity", aggregate_address_activity(t))
        day = t["date"][0]
        pieces = window_sql.reduce_window(client, window_sql.WarehouseWindow("torus", day, day))
    sender = pieces.names.filter(pl.col("address") == addr(0))["id"][0]
    sums = pieces.volume.filter(pl.col("id") == sender)
    assert sums["out_volume"][0] == float(big + 2 * small)  # exactly: 1e16 + 2 is a double
    assert sums["in_volume"][0] == 1.0
