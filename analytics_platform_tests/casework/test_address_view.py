"""The analyst's views (an address, a day's cases), read from the lake with DuckDB, agree with
the warehouse."""

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from analytics_platform.casework import case_view
from analytics_platform.casework.address_view import address_view, render
from analytics_platform.config import load_settings
from analytics_platform.lib.runner import instance_for, refresh_labels, run_range
from analytics_platform.storage import clickhouse as ch
from analytics_platform_tests.conftest import START


def test_an_alerted_address_as_the_lake_shows_it(home: Path):
    settings = load_settings()
    instance = instance_for(settings)
    refresh_labels(settings, "torus", instance=instance)
    last = START + timedelta(days=1)
    said: list[str] = []
    run_range(settings, "torus", START, last, instance=instance, progress=said.append)
    # The run shows each step as it ends, then the run's outcome.
    steps = [line for line in said if line.startswith("    torus__")]
    assert any("structural_patterns done at" in line for line in steps), said
    assert len(steps) >= 7 and said[-1].startswith("[1/1] torus") and " ok in " in said[-1]
    with ch.session(settings.clickhouse) as client:
        alerts = ch.query_frame(
            client,
            "SELECT date, address, typology, explanation, case_rank, in_budget "
            "FROM torus.typology_alerts",
        )
        address = alerts.group_by("address").len().sort("len", "address")["address"][-1]
        edges = ch.query_frame(
            client,
            "SELECT sum(transfer_count) AS n FROM torus.daily_edges "
            "WHERE from_address = {a:String} OR to_address = {a:String}",
            {"a": address},
        )
    # The warehouse is closed again; the view reads only Parquet files.
    view = address_view(settings.lake.url, "torus", address, days=30)
    assert (view.first, view.last) == (last - timedelta(days=29), last)
    mine = alerts.filter(pl.col("address") == address)
    assert sorted(view.alerts["explanation"]) == sorted(mine["explanation"])
    assert (
        view.patterns.height > 0
        and view.patterns["role"].is_in(["source", "intermediate", "sink"]).all()
    )
    assert sorted(view.features["window_days"]) == [7, 30, 90]
    assert int(view.counterparties["transfers"].sum()) == int(edges["n"][0])
    text = render(view)
    assert address in text and "counterparties:" in text and mine["typology"][0] in text
    assert "verdicts on its cases (latest first): 0" in text

    # The day's cases: one per alerted address, ranked 1..n, with every typology that fired.
    day, cases = case_view.day_cases(settings.lake.url, "torus")
    assert day == last
    stored = alerts.filter(pl.col("date").cast(pl.Date) == last)
    assert cases.height == stored["address"].n_unique()
    assert cases["case_rank"].to_list() == list(range(1, cases.height + 1))
    top = cases.row(0, named=True)
    fired = stored.filter(pl.col("address") == top["address"])["typology"]
    assert sorted(top["typologies"]) == sorted(set(fired))
    assert int(cases["in_budget"].sum()) == stored.filter("in_budget")["address"].n_unique()
    assert top["address"] in case_view.render(day, cases, top=5)

    # An analyst confirms the top case and dismisses the last: `calibrate` refits the
    # confidences of the typologies that fired in them into a catalog copy.
    from analytics_platform.cli import main
    from analytics_platform.domain.typologies import load_catalog

    bottom = cases.row(cases.height - 1, named=True)
    verdicts = home / "dispositions.csv"
    verdicts.write_text(
        "date,address,disposition\n"
        f"{last},{top['address']},confirmed\n{last},{bottom['address']},dismissed\n"
        f"{last},0xnot-a-case,confirmed\n"
    )
    out = home / "fitted.yaml"
    args = ["calibrate", "--dispositions", str(verdicts), "--out", str(out), "--prior-weight", "1"]
    assert main(args) == 0
    before, after = load_catalog(), load_catalog(out)
    assert after.version.startswith(before.version + "+fitted-")
    prior = {t.name: t.confidence for t in before.typologies}
    fitted = {t.name: t.confidence for t in after.typologies}
    worked = set(top["typologies"]) | set(bottom["typologies"])
    for name, weight in prior.items():  # the prior is worth one case (--prior-weight 1)
        confirmed = int(name in top["typologies"])
        cases = confirmed + int(name in bottom["typologies"])
        assert fitted[name] == pytest.approx(round((confirmed + weight) / (cases + 1), 3)), name
    assert any(fitted[name] != prior[name] for name in worked)
    # A verdict recorded on the top case shows in the address's view.
    assert main(["case", "dispose", top["address"], "dismissed", "--note", "payroll"]) == 0
    verdicts = address_view(settings.lake.url, "torus", top["address"]).verdicts
    assert verdicts.select("date", "disposition", "note").rows() == [(last, "dismissed", "payroll")]


def test_an_empty_lake_is_a_clear_error(tmp_path):
    with pytest.raises(LookupError, match="nothing in the lake"):
        address_view(str(tmp_path / "lake"), "torus", "0xabc")


def test_cases_of_an_empty_lake_are_a_clear_error(tmp_path):
    with pytest.raises(LookupError, match="cases: no alerts in the lake"):
        case_view.day_cases(str(tmp_path / "lake"), "torus")
    with pytest.raises(LookupError, match="cases: no alerts in the lake"):
        case_view.open_episodes(str(tmp_path / "lake"), "torus")


CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
)  # fmt: skip


def test_a_case_exported_from_the_lake_opens_in_a_browser(home: Path, tmp_path: Path):
    import shutil
    import subprocess

    from analytics_platform.casework.export import export_case
    from analytics_platform.cli import main

    settings = load_settings()
    instance = instance_for(settings)
    refresh_labels(settings, "torus", instance=instance)
    run_range(settings, "torus", START, START, instance=instance, progress=lambda _: None)
    day, cases = case_view.day_cases(settings.lake.url, "torus")
    top = cases.row(0, named=True)

    # An analyst's verdict on the case travels with it.
    assert main(["case", "dispose", top["case_id"], "confirmed", "--note", "mule hub"]) == 0
    out = tmp_path / "case"
    done = export_case(settings.lake.url, "torus", top["address"], out)
    verdicts = pl.read_parquet(out / "verdicts.parquet")
    assert verdicts.select("disposition", "note").rows() == [("confirmed", "mule hub")]
    assert (done.day, done.case_id) == (day, top["case_id"])
    alerts = pl.read_parquet(out / "alerts.parquet")
    assert sorted(set(alerts["typology"])) == sorted(top["typologies"])
    named = {t for ids in alerts["tx_hashes"] for t in ids}
    assert named <= set(pl.read_parquet(out / "transfers.parquet")["tx_hash"])
    assert sorted(pl.read_parquet(out / "features.parquet")["window_days"]) == [7, 30, 90]
    assert (out / "transfers.csv").read_text().count("\n") == len(named) + 1
    with_evidence = alerts.filter(pl.col("pattern_ids").list.len() > 0)["alert_id"]
    assert {p.stem for p in (out / "evidence").glob("*.png")} == set(with_evidence)
    page = done.report.read_text()
    assert top["address"] in page and all(t in page for t in top["typologies"])
    assert "mule hub" in page
    assert page.count("data:image/png;base64,") == with_evidence.len()
    # The same case by its id, through the CLI.
    assert main(["case", "export", top["case_id"], "--out", str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / "report.html").read_text() == page
    # Refused in one line: a non-empty folder, the lake's own folder, a file.
    again = tmp_path / "again"
    for out in (again, Path(settings.lake.url) / "case", again / "report.html"):
        assert main(["case", "export", top["case_id"], "--out", str(out)]) == 2
    assert not (Path(settings.lake.url) / "case").exists()
    # --force replaces what an export wrote (a previous case's picture too), nothing else.
    (again / "evidence" / "another-case.png").write_bytes(b"\x89PNG old")
    (again / "notes.txt").write_text("the analyst's own notes")
    assert main(["case", "export", top["case_id"], "--out", str(again), "--force"]) == 0
    assert not (again / "evidence" / "another-case.png").exists()
    assert (again / "notes.txt").read_text() == "the analyst's own notes"
    assert (again / "report.html").read_text() == page

    # Headless Chromium (installed by scripts/setup.sh) renders the page to a screenshot.
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is not installed: run scripts/setup.sh"
    shot = tmp_path / "report.png"
    subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", "--window-size=1280,1600", done.report.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    png = shot.read_bytes()
    assert png[:4] == b"\x89PNG" and len(png) > 20_000  # a rendered page, not a blank one
