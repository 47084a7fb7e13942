"""Analysts' verdicts kept in the lake: recorded once, a changed mind appended, a verdict on no
stored case refused whole, and read back by the cases view."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from upath import UPath

from analytics_platform.casework import case_view, dispositions
from analytics_platform.domain.typologies import load_catalog
from analytics_platform.lake.sql import LakeSql
from analytics_platform.storage.lake import lake_root, partition_file, write_atomic

DAY = date(2026, 3, 2)


@pytest.fixture
def lake(tmp_path) -> UPath:
    """A local lake holding one day of alerts: two cases (0xa with two alerts, 0xb with
    one)."""
    return with_alerts(UPath(str(tmp_path / "lake")))


@pytest.fixture(params=["local", "s3"])
def any_lake(request, tmp_path) -> UPath:
    """The same lake in a local folder and on S3 (a moto server)."""
    if request.param == "local":
        return with_alerts(UPath(str(tmp_path / "lake")))
    endpoint = request.getfixturevalue("s3_endpoint")
    return with_alerts(lake_root("s3://lake/analytics", region="us-east-1", endpoint_url=endpoint))


def with_alerts(root: UPath) -> UPath:
    alerts = pl.DataFrame(
        {
            "network": ["torus"] * 3,
            "date": [DAY] * 3,
            "alert_id": ["al-1", "al-2", "al-3"],
            "typology": ["rapid_fan_out", "peel_chain", "round_tripping"],
            "address": ["0xa", "0xa", "0xb"],
            "severity": ["high", "low", "medium"],
            "score": [0.9, 0.4, 0.6],
            "pattern_ids": [["p1"], ["p2"], ["p3"]],
            "explanation": ["fan", "peel", "round trip"],
            "case_id": ["case-a", "case-a", "case-b"],
            "case_score": [0.9, 0.9, 0.6],
            "case_rank": [1, 1, 2],
            "in_budget": [True, True, False],
        }
    )
    write_atomic(alerts, partition_file(root, "typology_alerts", "torus", DAY))
    return root


def realert(lake: UPath) -> date:
    """0xa's alerts again on the next day (a new case); returns that day."""
    alerts = pl.read_parquet(str(partition_file(lake, "typology_alerts", "torus", DAY)))
    next_day = DAY + timedelta(days=1)
    again = alerts.filter(pl.col("address") == "0xa").with_columns(
        pl.lit(next_day).alias("date"), pl.lit("case-a2").alias("case_id")
    )
    write_atomic(again, partition_file(lake, "typology_alerts", "torus", next_day))
    return next_day


def verdicts(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [(str(DAY), a, d, n) for a, d, n in rows],
        schema=["date", "address", "disposition", "note"],
        orient="row",
    )


def files(root: UPath) -> list[str]:
    folder = root / dispositions.TABLE / "network=torus"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_verdicts_are_recorded_once_and_a_changed_mind_is_appended(any_lake: UPath):
    lake = any_lake
    first = datetime(2026, 3, 3, 9, tzinfo=UTC)
    done = dispositions.record(
        lake, "torus", verdicts(("0xa", "Confirmed", "mule"), ("0xb", "dismissed", "")),
        analyst="kim", now=first,
    )  # fmt: skip
    assert (done.rows, done.unchanged) == (2, 0) and len(files(lake)) == 1
    sql = LakeSql(str(lake), "torus")
    now = dispositions.current(sql)
    assert dict(now.select("address", "case_id").iter_rows()) == {"0xa": "case-a", "0xb": "case-b"}
    assert now["analyst"].to_list() == ["kim", "kim"] and now["disposition"][0] == "confirmed"

    # The same import again writes nothing.
    again = dispositions.record(
        lake, "torus", verdicts(("0xa", "confirmed", "mule"), ("0xb", "dismissed", "")),
        analyst="kim",
    )  # fmt: skip
    assert (again.rows, again.unchanged, again.path) == (0, 2, None) and len(files(lake)) == 1

    # A review that changes its mind on 0xb is one new row; the case shows the latest verdict.
    later = dispositions.record(
        lake, "torus", verdicts(("0xb", "confirmed", "second look")), analyst="lee",
        now=datetime(2026, 3, 4, tzinfo=UTC),
    )  # fmt: skip
    assert later.rows == 1 and len(files(lake)) == 2
    assert dispositions.history(sql).height == 3
    day, cases = case_view.day_cases(str(lake), "torus", DAY)
    assert dict(cases.select("address", "disposition").iter_rows()) == {
        "0xa": "confirmed",
        "0xb": "confirmed",
    }
    assert "second look" in dispositions.current(sql)["note"].to_list()
    assert "confirmed" in case_view.render(day, cases)


def test_a_file_with_a_verdict_on_no_case_is_refused_whole(lake: UPath):
    bad = verdicts(("0xa", "confirmed", ""), ("0xnot-a-case", "dismissed", ""))
    with pytest.raises(LookupError, match=r"no case for address 0xnot-a-case on 2026-03-02"):
        dispositions.record(lake, "torus", bad)
    with pytest.raises(ValueError, match=r"dispositions.disposition: .* got 'maybe'"):
        dispositions.record(lake, "torus", verdicts(("0xa", "maybe", "")))
    assert files(lake) == []
    _, cases = case_view.day_cases(str(lake), "torus", DAY)
    assert cases["disposition"].is_null().all()  # open cases


def test_the_cli_disposes_a_case_by_id_and_calibrate_reads_the_lake(
    lake: UPath, monkeypatch, capsys
):
    from analytics_platform.cli import main

    home = UPath(str(lake)).parent  # the lake is the home's default one
    (home / "config.yaml").write_text("networks:\n  torus:\n    start_date: '2026-03-01'\n")
    monkeypatch.setenv("ANALYTICS_HOME", str(home))
    monkeypatch.setenv("ANALYTICS_CONFIG", str(home / "config.yaml"))
    monkeypatch.delenv("ANALYTICS_LAKE_URL", raising=False)
    out = home / "fitted.yaml"
    # Nothing recorded yet: calibrate says where verdicts come from.
    assert main(["calibrate", "--out", str(out)]) == 2 and not out.exists()
    assert "no verdicts recorded in the lake" in capsys.readouterr().err
    assert main(["case", "dispose", "case-a", "confirmed", "--analyst", "kim"]) == 0
    assert main(["case", "dispose", "0xb", "dismissed", "--note", "payroll"]) == 0
    assert main(["cases", "--open"]) == 0  # both cases judged: no open work
    assert "0 open episodes as of 2026-03-02" in capsys.readouterr().out
    assert main(["case", "dispose", "0xzz", "confirmed"]) == 2
    assert "case dispose: no alert in the lake" in capsys.readouterr().err
    now = dispositions.current(LakeSql(str(lake), "torus"))
    assert dict(now.select("address", "disposition").iter_rows()) == {
        "0xa": "confirmed",
        "0xb": "dismissed",
    }
    # A team's file: re-importing it records nothing new.
    team = home / "verdicts.csv"
    team.write_text(f"date,address,disposition,analyst\n{DAY},0xa,confirmed,kim\n")
    assert main(["case", "dispositions", "--import", str(team)]) == 0
    assert "recorded 0 verdict(s), 1 unchanged" in capsys.readouterr().out
    assert main(["case", "dispositions", "--compact"]) == 0
    said = capsys.readouterr().out
    assert "merged 2 file(s) into one" in said and "2 case(s) with a verdict" in said
    assert main(["calibrate", "--out", str(out), "--prior-weight", "1"]) == 0
    assert out.read_text().startswith("# Written by analytics-platform calibrate from the verdicts")
    prior = {t.name: t.confidence for t in load_catalog().typologies}
    fitted = {t.name: t.confidence for t in load_catalog(Path(str(out))).typologies}
    for name in ("rapid_fan_out", "peel_chain"):  # in the confirmed case
        assert fitted[name] == pytest.approx(round((1 + prior[name]) / 2, 3)), name
    assert fitted["round_tripping"] == pytest.approx(round(prior["round_tripping"] / 2, 3))
    # and the case score those confidences give, read as the share confirmed (one of two)
    assert "case score map (" in capsys.readouterr().out
    assert load_catalog(Path(str(out))).score_map


def test_a_re_alert_shows_the_address_cases_and_verdict_before(lake: UPath):
    next_day = realert(lake)
    dispositions.record(lake, "torus", verdicts(("0xa", "dismissed", "payroll")))
    day, cases = case_view.day_cases(str(lake), "torus")
    assert day == next_day and cases.height == 1
    row = cases.row(0, named=True)
    assert row["disposition"] is None  # today's case is open
    assert (row["earlier_cases"], row["previous_case"]) == (1, DAY)
    assert (row["last_verdict"], row["last_verdict_date"]) == ("dismissed", DAY)
    assert f"dismissed {DAY}" in case_view.render(day, cases)
    _, first = case_view.day_cases(str(lake), "torus", DAY)
    assert first["earlier_cases"].is_null().all() and first["last_verdict"].is_null().all()


def test_compaction_keeps_every_verdict_in_one_file(any_lake: UPath):
    lake = any_lake
    for hour, verdict in enumerate(("confirmed", "dismissed", "confirmed"), start=9):
        dispositions.record(
            lake,
            "torus",
            verdicts(("0xa", verdict, "")),
            now=datetime(2026, 3, 3, hour, tzinfo=UTC),
        )
    dispositions.record(lake, "torus", verdicts(("0xb", "dismissed", "")))
    sql = LakeSql(str(lake), "torus")
    before = dispositions.history(sql)
    assert len(files(lake)) == before.height == 4
    assert dispositions.compact(lake, "torus") == 4
    assert len(files(lake)) == 1 and "compacted" in files(lake)[0]
    assert dispositions.history(sql).equals(before)
    assert dispositions.compact(lake, "torus") == 0  # one file: nothing to merge
    # A recording after the merge is its own file again, and the log reads both.
    dispositions.record(lake, "torus", verdicts(("0xa", "dismissed", "")))
    assert len(files(lake)) == 2
    assert dict(dispositions.current(sql).select("address", "disposition").iter_rows()) == {
        "0xa": "dismissed",
        "0xb": "dismissed",
    }


def test_the_calibrate_job_refits_from_the_dagster_ui(lake: UPath, monkeypatch):
    """``torus__calibrate``, as launched from the UI: the verdicts recorded in the lake in, a
    catalog copy, the table of confidences and the score map in the run's metadata out."""
    from analytics_platform.config import load_settings
    from analytics_platform.lib.loading import build_definitions

    home = Path(str(lake)).parent  # the lake is the home's default one
    (home / "config.yaml").write_text("networks:\n  torus:\n    start_date: '2026-03-01'\n")
    monkeypatch.setenv("ANALYTICS_HOME", str(home))
    monkeypatch.setenv("ANALYTICS_CONFIG", str(home / "config.yaml"))
    monkeypatch.delenv("ANALYTICS_LAKE_URL", raising=False)
    dispositions.record(lake, "torus", verdicts(("0xa", "confirmed", ""), ("0xb", "dismissed", "")))
    job = build_definitions(load_settings()).resolve_job_def("torus__calibrate")
    out = home / "fitted.yaml"
    config = {"ops": {"torus__refit_catalog": {"config": {"out": str(out), "prior_weight": 1.0}}}}
    result = job.execute_in_process(run_config=config)
    assert result.success
    prior = {t.name: t.confidence for t in load_catalog().typologies}
    fitted = {t.name: t.confidence for t in load_catalog(out).typologies}
    assert fitted["rapid_fan_out"] == pytest.approx(round((1 + prior["rapid_fan_out"]) / 2, 3))
    (output,) = [e for e in result.all_events if e.is_successful_output]
    metadata = output.event_specific_data.metadata
    assert (metadata["verdicts"].value, metadata["unmatched_verdicts"].value) == (2, 0)
    assert metadata["typologies_refitted"].value == 3  # rapid_fan_out, peel_chain, round_tripping
    assert "| rapid_fan_out |" in metadata["confidences"].value
    steps = metadata["score_map"].value.splitlines()[2:]  # one row per step of the fitted map
    assert len(steps) == len(load_catalog(out).score_map) >= 1


def test_the_open_work_is_one_episode_per_address_until_a_verdict(lake: UPath):
    next_day = realert(lake)

    def work() -> dict[str, tuple[date, date, int]]:
        day, open_ = case_view.open_episodes(str(lake), "torus")
        assert day == next_day
        return {r["address"]: (r["first"], r["last"], r["cases"]) for r in open_.to_dicts()}

    # Three cases, two pieces of work: 0xa's re-alert joins its open episode.
    assert work() == {"0xa": (DAY, next_day, 2), "0xb": (DAY, DAY, 1)}
    # A verdict on 0xa's first case closes that episode; the re-alert after it is new work.
    dispositions.record(lake, "torus", verdicts(("0xa", "dismissed", ""), ("0xb", "confirmed", "")))
    assert work() == {"0xa": (next_day, next_day, 1)}
    _, open_ = case_view.open_episodes(str(lake), "torus")
    assert "1 open episodes as of" in case_view.render_episodes(next_day, open_)
