"""Deterministic synthetic network with planted laundering patterns and their ground truth.

Background traffic: every address has three fixed "friends" (three random permutations, so each
address also has exactly three in-friends), sends mostly to them, sometimes to an exchange or to
a random address. Labelled service addresses (exchanges, mixers, sanctioned, scam) are part of
the network. Planted patterns use fresh addresses and are recorded in ``ground_truth``:

- ``fan_out`` / ``fan_in``: one centre and 6-12 fresh counterparties within a few hours;
- ``cycle``: 3-5 addresses pass funds around, time-ordered, back to the origin;
- ``scatter_gather`` / ``gather_scatter``: 3-6 parallel intermediates / senders and recipients;
- ``bipartite``: 2-3 senders each paying the same 2-3 recipients; ``stack``: 2 sources, 4
  intermediates, 2 sinks;
- ``layering_chain`` (5-7 hops, amounts varying) and ``peel_chain`` (6-8 hops, each passing on
  85-95%); ``rapid_pass_through`` (a mule forwarding 99% within 1.5 h);
- ``structuring``: 4-6 transfers at 92-99.5% of ``reporting_threshold`` within 5 hours.

Users paying mixers and sanctioned addresses are ``risky_proximity`` ground truth (one hop).

Benign look-alikes (``is_sar`` false in ``ground_truth``, under the type they resemble), from a
generator of their own so the rest of the data does not change with them:

- ``fan_in``: exchange deposit addresses, each collecting from 6-12 established users within
  hours and sweeping the total to its exchange's hot wallet;
- ``fan_out``: mining-pool payouts, every 8 hours to the pool's same 8-12 miners;
- ``cycle``: swaps through a DEX router (labelled ``defi``), which returns about the value sent
  within two minutes.

Everything is vectorised (numpy/polars); 10 million transfers take seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pyarrow as pa

from analytics_platform.domain.schemas import AMOUNT, PRICES, TIMESTAMP

PLANTED_TYPES_DEFAULT = (
    "fan_out", "fan_in", "cycle", "scatter_gather", "gather_scatter", "bipartite", "stack",
    "layering_chain", "peel_chain", "rapid_pass_through", "structuring",
)  # fmt: skip
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def random_hex(rng: np.random.Generator, n: int, nbytes: int, prefix: str = "0x") -> pl.Series:
    """``n`` random lower-case hex strings of ``nbytes`` bytes, built without Python loops."""
    raw = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    chars = np.empty((n, 2 * nbytes), dtype=np.uint8)
    chars[:, 0::2] = _HEX[raw >> 4]
    chars[:, 1::2] = _HEX[raw & 15]
    fixed = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(2 * nbytes), n, [None, pa.py_buffer(chars.tobytes())]
    )
    text = pl.from_arrow(fixed.cast(pa.binary()).cast(pa.string()))
    return (prefix + text).alias("hex") if prefix else text


@dataclass(frozen=True)
class SyntheticConfig:
    network: str = "torus"
    start: date = date(2026, 1, 1)
    days: int = 21
    addresses: int = 5_000
    transfers_per_day: int = 10_000
    patterns_per_day: int = 2  # of each planted type
    exchanges: int = 8
    mixers: int = 3
    sanctioned: int = 3
    scam: int = 2
    seed: int = 7
    asset: str = "TOR"
    reporting_threshold: float = 10_000.0  # structuring plants sit just under it
    asset_usd: float = 1.0  # USD price of ``asset`` (a stablecoin-like 1.0 by default)
    second_asset: str | None = None
    """A second asset moved by part of the background (planted patterns stay in ``asset``),
    priced ``second_asset_usd`` a unit: native sums across the two then mislead, USD ones not."""
    second_asset_usd: float = 2_500.0
    second_asset_share: float = 0.25
    planted_types: tuple[str, ...] = PLANTED_TYPES_DEFAULT
    lookalikes_per_day: int = 2
    """Benign look-alikes of each kind a day (0: none)."""
    stream: int | None = None
    """Set: the addresses and their friends still come from ``seed``, every transfer from
    ``(seed, stream)``. Consecutive spans of one network, each generated with its own
    ``start``, ``days`` and ``stream``, are then days of the same network that never need to
    be in memory together (``bench features`` writes 100M transfers this way)."""


@dataclass(frozen=True)
class SyntheticNetwork:
    transfers: pl.DataFrame
    labels: pl.DataFrame
    ground_truth: pl.DataFrame
    """pattern_id, pattern_type, is_sar (false: a benign look-alike), address, role, day,
    tx_hashes: one row per member."""
    prices: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PRICES))
    """Daily USD price of every asset (the ``prices`` asset's source rows)."""


def _amounts(rng: np.random.Generator, n: int, mean_log: float = 3.0) -> np.ndarray:
    return np.round(rng.lognormal(mean_log, 1.2, size=n), 6)


def generate(cfg: SyntheticConfig) -> SyntheticNetwork:
    """Generate ``cfg.days`` days of transfers with planted patterns (same seed, same data)."""
    rng = np.random.default_rng(cfg.seed)
    n_services = cfg.exchanges + cfg.mixers + cfg.sanctioned + cfg.scam
    addresses = random_hex(rng, cfg.addresses + n_services, 20)
    services = addresses[cfg.addresses :]
    exchanges = services[: cfg.exchanges]
    users = addresses[: cfg.addresses]

    labels = _labels(cfg, services)
    friends = np.stack([rng.permutation(len(users)) for _ in range(3)], axis=1)
    if cfg.stream is not None:
        rng = np.random.default_rng([cfg.seed, cfg.stream])
    background = _with_second_asset(cfg, _background(cfg, rng, users, friends, exchanges))
    planted, truth = _planted(cfg, rng, services)
    risky = _risky_contacts(cfg, rng, users, services)
    truth = pl.concat([truth, _exposure_truth(cfg, risky, services)], how="diagonal")
    benign, benign_truth, router = _lookalikes(cfg, users, exchanges)
    if router is not None:
        labels = pl.concat([labels, _labels_of(cfg, [router], ["defi"], ["dex-router-0"])])
    truth = pl.concat(
        [truth.with_columns(pl.lit(True).alias("is_sar")), benign_truth], how="diagonal"
    ).select("pattern_id", "pattern_type", "is_sar", "address", "role", "day", "tx_hashes")

    transfers = (
        pl.concat([background, planted, risky, benign], how="diagonal_relaxed")
        .sort("block_time")
        .with_columns(
            pl.lit(cfg.network).alias("network"),
            pl.col("block_time").dt.date().alias("date"),
            pl.lit(0, dtype=pl.Int64).alias("transfer_index"),
            pl.col("asset").fill_null(cfg.asset)
            if "asset" in background.columns
            else pl.lit(cfg.asset).alias("asset"),
            pl.col("amount").cast(AMOUNT),
        )
    )
    base_block = 1_000_000
    transfers = transfers.with_columns(
        (
            pl.lit(base_block)
            + (pl.col("block_time").dt.epoch("s") - int(_day_start(cfg.start).timestamp())) // 12
        ).alias("block_number")
    ).select(
        "network",
        "date",
        "tx_hash",
        "transfer_index",
        "block_number",
        "block_time",
        "from_address",
        "to_address",
        "asset",
        "amount",
    )
    return SyntheticNetwork(
        transfers=transfers, labels=labels, ground_truth=truth, prices=_prices(cfg)
    )


def _with_second_asset(cfg: SyntheticConfig, background: pl.DataFrame) -> pl.DataFrame:
    """Part of the background in ``second_asset``, amounts scaled to a similar USD value.
    A separate generator: the rest of the data is the same with or without it."""
    if cfg.second_asset is None:
        return background
    rng = np.random.default_rng(cfg.seed + 1)
    pick = pl.Series(rng.random(background.height) < cfg.second_asset_share)
    scale = cfg.asset_usd / cfg.second_asset_usd
    return background.with_columns(
        pl.when(pick).then(pl.lit(cfg.second_asset)).otherwise(pl.lit(cfg.asset)).alias("asset"),
        pl.when(pick)
        .then((pl.col("amount").cast(pl.Float64) * scale).round(8))
        .otherwise(pl.col("amount").cast(pl.Float64))
        .alias("amount"),
    )


def _prices(cfg: SyntheticConfig) -> pl.DataFrame:
    """One price per asset and day: ``asset`` at ``asset_usd``; the second asset drifting a
    little around ``second_asset_usd`` (its own generator)."""
    days = [cfg.start + timedelta(days=i) for i in range(cfg.days)]
    rows = [(d, cfg.asset, 6, cfg.asset_usd) for d in days]
    if cfg.second_asset is not None:
        drift = np.random.default_rng(cfg.seed + 2).normal(0, 0.02, size=cfg.days)
        rows += [
            (d, cfg.second_asset, 18, round(cfg.second_asset_usd * (1 + x), 2))
            for d, x in zip(days, drift, strict=True)
        ]
    return pl.DataFrame(
        {
            "network": [cfg.network] * len(rows),
            "date": [r[0] for r in rows],
            "asset": [r[1] for r in rows],
            "decimals": [r[2] for r in rows],
            "usd_price": [r[3] for r in rows],
            "source": ["synthetic"] * len(rows),
        },
        schema=PRICES,
    )


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _times(rng: np.random.Generator, start: date, day_offsets: np.ndarray, secs: np.ndarray):
    base = int(_day_start(start).timestamp() * 1000)
    ms = base + day_offsets.astype(np.int64) * 86_400_000 + (secs * 1000).astype(np.int64)
    return pl.Series("block_time", ms).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")


def _frame(rng, senders, receivers, times, amounts) -> pl.DataFrame:
    n = len(senders)
    return pl.DataFrame(
        {
            "tx_hash": random_hex(rng, n, 32),
            "block_time": times,
            "from_address": senders,
            "to_address": receivers,
            "amount": amounts,
        }
    ).with_columns(pl.col("block_time").cast(TIMESTAMP))


def _background(
    cfg, rng, users: pl.Series, friends: np.ndarray, exchanges: pl.Series
) -> pl.DataFrame:
    """Each user's transfers: 85 % to one of its three ``friends`` (columns of user indices),
    5 % to anyone, 10 % to an exchange."""
    n = cfg.days * cfg.transfers_per_day
    m = len(users)
    sender = rng.integers(0, m, size=n)
    choice = rng.random(n)
    friend_pick = friends[sender, rng.integers(0, 3, size=n)]
    random_pick = rng.integers(0, m, size=n)
    to_exchange = choice > 0.90
    receiver_idx = np.where(choice < 0.85, friend_pick, random_pick)
    receivers = users.gather(receiver_idx)
    if len(exchanges):
        ex = exchanges.gather(rng.integers(0, len(exchanges), size=n))
        receivers = pl.select(
            pl.when(pl.Series(to_exchange)).then(ex).otherwise(receivers)
        ).to_series()
    same = (receivers == users.gather(sender)).to_numpy()
    receivers = pl.select(
        pl.when(pl.Series(same)).then(users.gather((sender + 1) % m)).otherwise(receivers)
    ).to_series()
    days = rng.integers(0, cfg.days, size=n)
    times = _times(rng, cfg.start, days, rng.uniform(0, 86_399, size=n))
    return _frame(rng, users.gather(sender), receivers, times, _amounts(rng, n))


def _chain(rng, n: int, amount0: float, ratios: np.ndarray):
    nodes = random_hex(rng, n + 1, 20)
    secs = np.cumsum(rng.uniform(0.3, 2.0, size=n) * 3600)
    amounts = np.round(amount0 * np.concatenate([[1.0], np.cumprod(ratios[: n - 1])]), 6)
    roles = ["source"] + ["intermediate"] * (n - 1) + ["sink"]
    return list(nodes[:-1]), list(nodes[1:]), secs, amounts, nodes, roles


def _plant(kind: str, cfg, rng, services):
    """(senders, receivers, seconds into the day, amounts, members, roles) of one pattern."""
    if kind not in _PLANTERS:
        raise ValueError(f"pattern type: cannot plant {kind!r}")
    fresh = lambda n: list(random_hex(rng, n, 20))  # noqa: E731
    return _PLANTERS[kind](kind, cfg, rng, fresh)


def _plant_cycle(kind: str, cfg, rng, fresh):
    size = int(rng.integers(3, 6))
    members = fresh(size)
    secs = np.sort(rng.uniform(0, 20 * 3600, size=size))
    amounts = np.round(float(rng.uniform(5_000, 50_000)) * (0.99 ** np.arange(size)), 6)
    return (
        members,
        members[1:] + members[:1],
        secs,
        amounts,
        members,
        ["source"] + ["intermediate"] * (size - 1),
    )


def _plant_fans(kind: str, cfg, rng, fresh):
    fan = int(rng.integers(6, 13))
    center, leaves = fresh(1), fresh(fan)
    secs = np.sort(rng.uniform(0, 17 * 3600) + rng.uniform(0, 6 * 3600, size=fan))
    amounts = np.round(rng.uniform(900, 9_900, size=fan), 2)
    if kind == "fan_out":
        return center * fan, leaves, secs, amounts, center + leaves, ["source"] + ["sink"] * fan
    return leaves, center * fan, secs, amounts, center + leaves, ["sink"] + ["source"] * fan


def _plant_scatter_gather(kind: str, cfg, rng, fresh):
    k = int(rng.integers(3, 7))
    src, mids, dst = fresh(1), fresh(k), fresh(1)
    t1 = np.sort(rng.uniform(0, 6 * 3600, size=k))
    t2 = t1 + rng.uniform(1, 4, size=k) * 3600
    a1 = np.round(rng.uniform(2_000, 9_000, size=k), 2)
    return (
        src * k + mids,
        mids + dst * k,
        np.concatenate([t1, t2]),
        np.concatenate([a1, np.round(a1 * 0.98, 2)]),
        src + mids + dst,
        ["source"] + ["intermediate"] * k + ["sink"],
    )


def _plant_gather_scatter(kind: str, cfg, rng, fresh):
    k = int(rng.integers(3, 7))
    srcs, center, dsts = fresh(k), fresh(1), fresh(k)
    t1 = np.sort(rng.uniform(0, 6 * 3600, size=k))
    t2 = np.sort(rng.uniform(7 * 3600, 12 * 3600, size=k))
    a1 = np.round(rng.uniform(2_000, 9_000, size=k), 2)
    return (
        srcs + center * k,
        center * k + dsts,
        np.concatenate([t1, t2]),
        np.concatenate([a1, np.round(a1[::-1] * 0.97, 2)]),
        srcs + center + dsts,
        ["source"] * k + ["intermediate"] + ["sink"] * k,
    )


def _plant_bipartite(kind: str, cfg, rng, fresh):
    a, b = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    srcs, dsts = fresh(a), fresh(b)
    senders = [x for x in srcs for _ in dsts]
    receivers = [y for _ in srcs for y in dsts]
    n = len(senders)
    return (
        senders,
        receivers,
        np.sort(rng.uniform(0, 6 * 3600, size=n)),
        np.round(rng.uniform(1_000, 5_000, size=n), 2),
        srcs + dsts,
        ["source"] * a + ["sink"] * b,
    )


def _plant_stack(kind: str, cfg, rng, fresh):
    srcs, mids, dsts = fresh(2), fresh(4), fresh(2)
    senders, receivers, secs, amounts = [], [], [], []
    for i, m in enumerate(mids):
        t_in = float(rng.uniform(0, 4 * 3600))
        amount = float(rng.uniform(2_000, 8_000))
        senders += [srcs[i % 2], m]
        receivers += [m, dsts[(i // 2) % 2]]
        secs += [t_in, t_in + float(rng.uniform(1, 3)) * 3600]
        amounts += [round(amount, 2), round(amount * 0.97, 2)]
    return (
        senders,
        receivers,
        np.array(secs),
        np.array(amounts),
        srcs + mids + dsts,
        ["source"] * 2 + ["intermediate"] * 4 + ["sink"] * 2,
    )


def _plant_layering_chain(kind: str, cfg, rng, fresh):
    n = int(rng.integers(5, 8))
    return _chain(rng, n, float(rng.uniform(5_000, 20_000)), rng.uniform(0.6, 1.6, size=n))


def _plant_peel_chain(kind: str, cfg, rng, fresh):
    n = int(rng.integers(6, 9))
    return _chain(rng, n, float(rng.uniform(20_000, 80_000)), rng.uniform(0.85, 0.95, size=n))


def _plant_rapid_pass_through(kind: str, cfg, rng, fresh):
    senders_, mule, dsts = fresh(2), fresh(1), fresh(2)
    t_in = np.sort(rng.uniform(0, 10 * 3600, size=2))
    a_in = np.round(rng.uniform(3_000, 9_000, size=2), 2)
    t_out = t_in + rng.uniform(0.2, 1.5, size=2) * 3600
    return (
        senders_ + mule * 2,
        mule * 2 + dsts,
        np.concatenate([t_in, t_out]),
        np.concatenate([a_in, np.round(a_in * 0.99, 2)]),
        senders_ + mule + dsts,
        ["source"] * 2 + ["intermediate"] + ["sink"] * 2,
    )


def _plant_structuring(kind: str, cfg, rng, fresh):
    k = int(rng.integers(4, 7))
    src, dsts = fresh(1), fresh(k)
    secs = np.sort(rng.uniform(0, 17 * 3600) + rng.uniform(0, 5 * 3600, size=k))
    amounts = np.round(cfg.reporting_threshold * rng.uniform(0.92, 0.995, size=k), 2)
    return src * k, dsts, secs, amounts, src + dsts, ["source"] + ["sink"] * k


_PLANTERS = {
    "cycle": _plant_cycle,
    "fan_in": _plant_fans,
    "fan_out": _plant_fans,
    "scatter_gather": _plant_scatter_gather,
    "gather_scatter": _plant_gather_scatter,
    "bipartite": _plant_bipartite,
    "stack": _plant_stack,
    "layering_chain": _plant_layering_chain,
    "peel_chain": _plant_peel_chain,
    "rapid_pass_through": _plant_rapid_pass_through,
    "structuring": _plant_structuring,
}


PLANTED_TYPES = PLANTED_TYPES_DEFAULT


def _planted(cfg, rng, services) -> tuple[pl.DataFrame, pl.DataFrame]:
    frames: list[pl.DataFrame] = []
    truth: list[pl.DataFrame] = []
    counter = 0
    for day in range(cfg.days):
        for kind in cfg.planted_types:
            for _ in range(cfg.patterns_per_day):
                counter += 1
                pid = f"{cfg.network}-{kind}-{counter:05d}"
                senders, receivers, secs, amounts, members, roles = _plant(kind, cfg, rng, services)
                times = _times(rng, cfg.start, np.full(len(secs), day), np.asarray(secs))
                frame = _frame(
                    rng,
                    pl.Series(list(senders), dtype=pl.String),
                    pl.Series(list(receivers), dtype=pl.String),
                    times,
                    np.asarray(amounts),
                )
                frames.append(frame)
                truth.append(
                    pl.DataFrame(
                        {
                            "pattern_id": pid,
                            "pattern_type": kind,
                            "address": list(members),
                            "role": roles,
                        }
                    ).with_columns(
                        pl.lit(cfg.start + timedelta(days=day)).alias("day"),
                        pl.lit(frame["tx_hash"].to_list(), dtype=pl.List(pl.String)).alias(
                            "tx_hashes"
                        ),
                    )
                )
    if not frames:
        empty = pl.DataFrame(
            schema={
                "tx_hash": pl.String,
                "block_time": TIMESTAMP,
                "from_address": pl.String,
                "to_address": pl.String,
                "amount": pl.Float64,
            }
        )
        return empty, pl.DataFrame(
            schema={
                "pattern_id": pl.String,
                "pattern_type": pl.String,
                "address": pl.String,
                "role": pl.String,
                "day": pl.Date,
                "tx_hashes": pl.List(pl.String),
            }
        )
    return pl.concat(frames), pl.concat(truth)


def _risky_contacts(cfg, rng, users: pl.Series, services: pl.Series) -> pl.DataFrame:
    """A few users pay mixers or sanctioned addresses each day (exposure ground truth)."""
    risky = services[cfg.exchanges : cfg.exchanges + cfg.mixers + cfg.sanctioned]
    if len(risky) == 0:
        return _frame(
            rng,
            pl.Series([], dtype=pl.String),
            pl.Series([], dtype=pl.String),
            _times(rng, cfg.start, np.array([]), np.array([])),
            np.array([]),
        )
    n = cfg.days * 3
    senders = users.gather(rng.integers(0, len(users), size=n))
    receivers = risky.gather(rng.integers(0, len(risky), size=n))
    days = np.repeat(np.arange(cfg.days), 3)
    times = _times(rng, cfg.start, days, rng.uniform(0, 86_399, size=n))
    return _frame(rng, senders, receivers, times, _amounts(rng, n, 6.0))


def _exposure_truth(cfg: SyntheticConfig, risky: pl.DataFrame, services: pl.Series):
    """Ground truth of the risky contacts: each payer of a mixer or sanctioned address is a
    ``risky_proximity`` of its own (one hop, the payer alone)."""
    kinds = dict(zip(services.to_list(), _categories(cfg), strict=True))
    return risky.with_row_index("i").select(
        pl.format("{}-exposure-{}", pl.lit(cfg.network), pl.col("i")).alias("pattern_id"),
        pl.lit("risky_proximity").alias("pattern_type"),
        pl.col("from_address").alias("address"),
        pl.format("pays {}", pl.col("to_address").replace_strict(kinds, default="?")).alias("role"),
        pl.col("block_time").dt.date().alias("day"),
        pl.concat_list("tx_hash").alias("tx_hashes"),
    )


def _categories(cfg: SyntheticConfig) -> list[str]:
    return (
        ["exchange"] * cfg.exchanges
        + ["mixer"] * cfg.mixers
        + ["sanctioned"] * cfg.sanctioned
        + ["scam"] * cfg.scam
    )


def _labels(cfg: SyntheticConfig, services: pl.Series) -> pl.DataFrame:
    cats = _categories(cfg)
    return _labels_of(cfg, list(services), cats, [f"{c}-{i}" for i, c in enumerate(cats)])


def _labels_of(cfg: SyntheticConfig, addresses, categories, names) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "network": cfg.network,
            "address": pl.Series(addresses, dtype=pl.String),
            "label": names,
            "category": categories,
            "source": "synthetic",
            "valid_from": _day_start(cfg.start).isoformat(),
        }
    )


def _lookalikes(cfg: SyntheticConfig, users: pl.Series, exchanges: pl.Series):
    """Benign look-alikes: transfers, their ground truth (``is_sar`` false) and the DEX
    router's address (None when there are none)."""
    empty = _frame(
        np.random.default_rng(0),
        pl.Series([], dtype=pl.String),
        pl.Series([], dtype=pl.String),
        _times(np.random.default_rng(0), cfg.start, np.array([]), np.array([])),
        np.array([]),
    )
    if cfg.lookalikes_per_day == 0 or len(exchanges) == 0:
        return empty, pl.DataFrame(), None
    rng = np.random.default_rng(cfg.seed + 3)
    established = lambda n: list(users.gather(rng.choice(len(users), n, replace=False)))  # noqa: E731
    router = random_hex(rng, 1, 20)[0]
    pools = [(random_hex(rng, 1, 20)[0], established(int(rng.integers(8, 13))))
             for _ in range(cfg.lookalikes_per_day)]  # fmt: skip
    frames, truth = [], []
    counter = 0

    def record(kind, day, senders, receivers, secs, amounts, members, roles):
        nonlocal counter
        counter += 1
        times = _times(rng, cfg.start, np.full(len(secs), day), np.asarray(secs))
        frame = _frame(
            rng,
            pl.Series(senders, dtype=pl.String),
            pl.Series(receivers, dtype=pl.String),
            times,
            np.asarray(amounts),
        )
        frames.append(frame)
        truth.append(
            pl.DataFrame(
                {"pattern_id": f"{cfg.network}-benign-{kind}-{counter:05d}", "address": members,
                 "role": roles}
            ).with_columns(
                pl.lit(kind).alias("pattern_type"),
                pl.lit(False).alias("is_sar"),
                pl.lit(cfg.start + timedelta(days=day)).alias("day"),
                pl.lit(frame["tx_hash"].to_list(), dtype=pl.List(pl.String)).alias("tx_hashes"),
            )
        )  # fmt: skip

    for day in range(cfg.days):
        for i in range(cfg.lookalikes_per_day):
            # An exchange deposit address: users pay in, the total is swept to the exchange.
            deposit, payers = random_hex(rng, 1, 20)[0], established(int(rng.integers(6, 13)))
            secs = np.sort(rng.uniform(0, 17 * 3600) + rng.uniform(0, 5 * 3600, len(payers)))
            paid = np.round(rng.lognormal(6.0, 0.8, len(payers)), 2)
            hot = exchanges[int(rng.integers(0, len(exchanges)))]
            record(
                "fan_in", day, [*payers, deposit], [deposit] * len(payers) + [hot],
                np.append(secs, secs[-1] + rng.uniform(0.5, 3) * 3600),
                np.append(paid, round(float(paid.sum()) * 0.999, 2)),
                [deposit, *payers], ["sink"] + ["source"] * len(payers),
            )  # fmt: skip
            # A mining pool paying its miners every 8 hours, each by its share of the pool.
            pool, miners = pools[i]
            shares = np.linspace(1.0, 3.0, len(miners)) / np.linspace(1.0, 3.0, len(miners)).sum()
            reward = float(rng.uniform(3_000, 6_000))
            payouts = [(h * 3600 + rng.uniform(0, 600), reward * shares) for h in (2, 10, 18)]
            record(
                "fan_out", day, [pool] * 3 * len(miners), miners * 3,
                np.concatenate([t + np.arange(len(miners)) for t, _ in payouts]),
                np.round(np.concatenate([a for _, a in payouts]), 2),
                [pool, *miners], ["source"] + ["sink"] * len(miners),
            )  # fmt: skip
            # A swap through the DEX router: the value sent comes back within two minutes.
            (trader,) = established(1)
            t0, sent = float(rng.uniform(0, 86_000)), float(rng.uniform(2_000, 20_000))
            record(
                "cycle", day, [trader, router], [router, trader],
                [t0, t0 + float(rng.uniform(10, 120))],
                [round(sent, 2), round(sent * float(rng.uniform(0.97, 1.0)), 2)],
                [trader, router], ["source", "intermediate"],
            )  # fmt: skip
    return pl.concat(frames), pl.concat(truth), router


def demo_config(
    days: int = 21,
    seed: int = 7,
    transfers_per_day: int = 10_000,
    addresses: int = 5_000,
    start: date | None = None,
) -> SyntheticConfig:
    """The demo's world (and the tests'): two assets, the second at ~2,500 USD a unit."""
    cfg = SyntheticConfig(
        days=days,
        seed=seed,
        transfers_per_day=transfers_per_day,
        addresses=addresses,
        second_asset="WETH",  # a quarter of the background, at ~2,500 USD a unit
    )
    return replace(cfg, start=start) if start else cfg
