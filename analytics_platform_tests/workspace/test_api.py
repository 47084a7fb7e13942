"""The workspace's API and pages as a script or a person meets them: sign-in, roles, CSRF,
filters, one case with its evidence and as a download, the open episodes, search, a verdict
recorded like ``case dispose``, and every mistake answered in words (404, 422, 403, 401), with
nothing written."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from analytics_platform_tests.workspace.conftest import PASSWORD


@pytest.fixture(scope="module")
def app(stored_home: Path):
    from analytics_platform.config import load_settings
    from analytics_platform.workspace.server import workspace_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANALYTICS_HOME", str(stored_home))
        yield workspace_app(load_settings())


def signed_in(app, name: str) -> TestClient:
    client = TestClient(app)
    done = client.post("/login", data={"name": name, "password": PASSWORD, "next": "/"})
    assert done.status_code == 200, done.text
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def verdicts(stored_home: Path) -> int:
    folder = stored_home / "lake" / "case_dispositions"
    return len(list(folder.rglob("*.parquet"))) if folder.exists() else 0


def test_anonymous_requests_are_sent_to_sign_in(app):
    client = TestClient(app)
    page = client.get("/n/torus/queue?severity=high", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/n/torus/queue%3Fseverity%3Dhigh"
    assert client.get("/api/networks").status_code == 401
    wrong = client.post("/login", data={"name": "ana", "password": "nope", "next": "/"})
    assert "wrong name or password" in wrong.text
    assert client.get("/api/networks").status_code == 401  # still nobody


def test_the_queue_filters_pages_and_counts(app):
    client = signed_in(app, "ana")
    every = client.get("/api/networks/torus/cases", params={"size": 500}).json()
    assert every["total"] == len(every["cases"]) > 0 and every["matching"] == every["total"]
    ranks = [c["case_rank"] for c in every["cases"]]
    assert ranks == sorted(ranks)
    typology = every["cases"][0]["typologies"][0]
    some = client.get("/api/networks/torus/cases", params={"typology": typology}).json()
    assert 0 < some["matching"] <= every["total"]
    assert all(typology in c["typologies"] for c in some["cases"])
    paged = client.get("/api/networks/torus/cases", params={"size": 2, "page": 2}).json()
    assert [c["case_id"] for c in paged["cases"]] == [c["case_id"] for c in every["cases"][2:4]]
    by_score = client.get("/api/networks/torus/cases", params={"sort": "score"}).json()
    scores = [c["case_score"] for c in by_score["cases"]]
    assert scores == sorted(scores, reverse=True)
    page = client.get("/n/torus/queue", params={"typology": typology})
    assert page.status_code == 200 and f"{some['matching']} match the filters" in page.text


def test_a_case_with_its_evidence_and_a_verdict_recorded(app, stored_home: Path, capsys):
    client = signed_in(app, "ana")
    first = client.get("/api/networks/torus/cases").json()["cases"][0]
    case = client.get(f"/api/networks/torus/cases/{first['case_id']}").json()
    assert case["address"] == first["address"] and case["alerts"] and case["features"]
    page = client.get(f"/n/torus/cases/{first['case_id']}")
    pictures = re.findall(r'src="(/api/networks/torus/cases/[^"]+\.png)"', page.text)
    assert pictures, "the case page shows its evidence pictures"
    png = client.get(pictures[0])
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    done = client.post(
        f"/n/torus/cases/{first['case_id']}/disposition",
        data={"disposition": "dismissed", "note": "exchange sweep", "csrf": csrf_of(page.text)},
    )
    assert "Verdict recorded (1 new)" in done.text and "exchange sweep" in done.text
    dismissed = client.get("/api/networks/torus/cases", params={"disposition": "dismissed"})
    assert [c["case_id"] for c in dismissed.json()["cases"]] == [first["case_id"]]
    # The same log the CLI reads, with who decided.
    from analytics_platform.cli import main

    assert main(["case", "dispositions"]) == 0
    assert "1 case(s) with a verdict in the lake: 1 dismissed" in capsys.readouterr().out
    again = client.get(f"/api/networks/torus/cases/{first['case_id']}").json()
    assert again["verdicts"][0]["analyst"] == "ana"


def test_roles_csrf_and_tokens(app, stored_home: Path):
    viewer = signed_in(app, "vic")
    case_id = viewer.get("/api/networks/torus/cases").json()["cases"][1]["case_id"]
    page = viewer.get(f"/n/torus/cases/{case_id}")
    assert "Viewers cannot record verdicts" in page.text
    before = verdicts(stored_home)
    refused = viewer.post(
        f"/n/torus/cases/{case_id}/disposition",
        data={"disposition": "confirmed", "csrf": csrf_of(page.text)},
    )
    assert refused.status_code == 403 and "needs role analyst" in refused.text
    analyst = signed_in(app, "ana")
    forged = analyst.post(
        f"/n/torus/cases/{case_id}/disposition", data={"disposition": "confirmed", "csrf": "x"}
    )
    assert forged.status_code == 403 and verdicts(stored_home) == before
    from analytics_platform.config import load_settings
    from analytics_platform.workspace.server import user_store

    token = user_store(load_settings()).new_token("ana")
    script = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    done = script.post(
        f"/api/networks/torus/cases/{case_id}/disposition",
        json={"disposition": "confirmed", "note": "from a script"},
    )
    assert done.json() == {"recorded": 1, "unchanged": 0, "analyst": "ana"}
    assert (
        TestClient(app, headers={"Authorization": "Bearer wrong"}).get("/api/networks").status_code
        == 401
    )


@pytest.mark.parametrize(
    "path, status, said",
    [
        ("/api/networks/torus/cases/case-0", 404, "no alert in the lake"),
        ("/api/networks/elsewhere/cases", 404, "unknown network 'elsewhere'"),
        ("/api/networks/torus/cases?sort=sideways", 422, "sort"),
        ("/api/networks/torus/cases?page=0", 422, "page"),
        ("/api/networks/torus/cases?date=yesterday", 422, "date"),
        ("/api/networks/torus/addresses/x' OR '1'='1", 404, "has no transfers"),
        ("/api/networks/torus/cases?typology=x'); DROP TABLE t; --", 200, ""),
        ("/n/torus/cases/case-0", 404, "no alert in the lake"),
        ("/n/torus/addresses/nobody", 404, "has no transfers"),
    ],
)
def test_mistakes_are_answered_in_words(app, path, status, said):
    answer = signed_in(app, "ana").get(path)
    assert answer.status_code == status, answer.text
    assert said in answer.text


def test_a_verdict_on_no_stored_case_writes_nothing(app, stored_home: Path):
    client = signed_in(app, "ana")
    page = client.get("/n/torus/queue")
    before = verdicts(stored_home)
    answer = client.post(
        "/n/torus/cases/case-123/disposition",
        data={"disposition": "confirmed", "csrf": csrf_of(page.text)},
    )
    assert answer.status_code == 404 and verdicts(stored_home) == before
    odd = client.post(
        "/api/networks/torus/cases/case-123/disposition",
        json={"disposition": "maybe"},
        headers={"X-CSRF-Token": csrf_of(page.text)},
    )
    assert odd.status_code == 422 and "disposition" in odd.text


def test_the_model_is_shown_to_all_and_moved_only_by_admins(app, stored_home: Path):
    from analytics_platform.config import load_settings
    from analytics_platform.workspace.server import user_store

    user_store(load_settings()).add("ada", "admin", PASSWORD)
    analyst = signed_in(app, "ana")
    assert analyst.get("/api/networks/torus/model").json() == {
        "champion": None, "challenger": None, "journal": [],
    }  # fmt: skip
    page = analyst.get("/n/torus")
    assert "none (rules only)" in page.text and "Promote the challenger" not in page.text
    queue = analyst.get("/n/torus/queue").text
    assert 'id="no-champion"' in queue and "come from the rules alone" in queue
    token = {"X-CSRF-Token": csrf_of(page.text)}
    refused = analyst.post("/api/networks/torus/model/promote", json={}, headers=token)
    assert refused.status_code == 403 and "needs role admin" in refused.text
    admin = signed_in(app, "ada")
    page = admin.get("/n/torus")
    assert "Promote the challenger" in page.text
    token = {"X-CSRF-Token": csrf_of(page.text)}
    nothing = admin.post("/api/networks/torus/model/promote", json={}, headers=token)
    assert nothing.status_code == 404 and "has no challenger (train one first)" in nothing.text
    back = admin.post("/api/networks/torus/model/rollback", json={"reason": ""}, headers=token)
    assert back.status_code == 422 and "--reason is required" in back.text


def test_an_empty_store_says_what_to_run(tmp_path, monkeypatch):
    from analytics_platform.config import load_settings
    from analytics_platform.workspace.server import user_store, workspace_app

    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path / "empty"))
    user_store(load_settings()).add("ana", "analyst", PASSWORD)
    client = TestClient(workspace_app(load_settings()))
    login = {"name": "ana", "password": PASSWORD, "next": "/n/torus/queue"}
    answer = client.post("/login", data=login)  # and on to the queue
    assert (
        answer.status_code == 503 and "run `analytics-platform demo` or a backfill" in answer.text
    )


def test_a_verdict_recorded_by_the_cli_shows_at_once(app, capsys):
    """Answers are kept while the lake stays as it was: a new file in it is a new answer."""
    from analytics_platform.cli import main

    client = signed_in(app, "ana")
    case_id = client.get("/api/networks/torus/cases").json()["cases"][2]["case_id"]
    assert client.get(f"/api/networks/torus/cases/{case_id}").json()["verdicts"] == []
    assert main(["case", "dispose", case_id, "confirmed", "--note", "from the terminal"]) == 0
    capsys.readouterr()
    (verdict,) = client.get(f"/api/networks/torus/cases/{case_id}").json()["verdicts"]
    assert verdict["disposition"] == "confirmed" and verdict["note"] == "from the terminal"


def test_a_case_downloads_as_the_files_case_export_writes(app, stored_home: Path):
    client = signed_in(app, "vic")  # reading is enough
    case = client.get("/api/networks/torus/cases").json()["cases"][0]
    page = client.get(f"/n/torus/cases/{case['case_id']}")
    link = f"/api/networks/torus/cases/{case['case_id']}/export.zip"
    assert link in page.text
    answer = client.get(link)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    assert f'filename="{case["case_id"]}.zip"' in answer.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    inside = {n.split("/", 1)[1] for n in names}
    assert {"alerts.csv", "alerts.parquet", "transfers.csv", "report.html"} <= inside
    report = zipfile.ZipFile(io.BytesIO(answer.content)).read(f"{case['case_id']}/report.html")
    assert case["address"].encode() in report
    missing = client.get("/api/networks/torus/cases/case-0/export.zip")
    assert missing.status_code == 404 and "no alert in the lake" in missing.text


def test_open_episodes_list_the_unjudged_work_as_the_cli_does(app, capsys):
    from analytics_platform.cli import main

    client = signed_in(app, "ana")
    listed = client.get("/api/networks/torus/episodes").json()
    assert listed["episodes"], "a fresh store has open work"
    scores = [e["best_score"] for e in listed["episodes"]]
    assert scores == sorted(scores, reverse=True)
    assert main(["cases", "--open"]) == 0
    assert f"{len(listed['episodes'])} open episodes as of {listed['date']}" in (
        capsys.readouterr().out
    )
    page = client.get("/n/torus/episodes")
    top = listed["episodes"][0]["address"]
    assert page.status_code == 200 and f"/n/torus/addresses/{quote(top)}" in page.text
    assert client.get("/api/networks/torus/episodes?gap_days=0").status_code == 422


def test_search_goes_to_the_case_or_address_it_names(app):
    client = signed_in(app, "ana")
    case = client.get("/api/networks/torus/cases").json()["cases"][0]
    alert = client.get(f"/api/networks/torus/cases/{case['case_id']}").json()["alerts"][0]
    for text in (case["case_id"], alert["alert_id"]):
        hop = client.get("/n/torus/search", params={"q": text}, follow_redirects=False)
        assert hop.status_code == 303
        assert hop.headers["location"] == f"/n/torus/cases/{case['case_id']}"
    found = client.get("/api/networks/torus/search", params={"q": case["address"]}).json()
    assert found["address"] == case["address"]
    hop = client.get("/n/torus/search", params={"q": case["address"]}, follow_redirects=False)
    assert hop.headers["location"] == f"/n/torus/addresses/{quote(case['address'])}"
    start = case["address"][:3]
    listed = client.get("/api/networks/torus/search", params={"q": start}).json()
    assert case["address"] in [m["address"] for m in listed["matches"]]
    assert all(m["address"].startswith(start) for m in listed["matches"])


@pytest.mark.parametrize(
    "q, status, said",
    [
        ("x' OR '1'='1", 200, "No case, alert or address"),
        ("%", 200, "No case, alert or address"),  # no LIKE: a wildcard is a character
        ("", 422, "q"),
        ("a" * 201, 422, "q"),
    ],
)
def test_a_search_for_nothing_says_so_and_harms_nothing(app, q, status, said):
    answer = signed_in(app, "ana").get("/n/torus/search", params={"q": q})
    assert answer.status_code == status and said in answer.text


def notes_written(stored_home: Path) -> int:
    folder = stored_home / "lake" / "case_notes"
    return len(list(folder.rglob("*.parquet"))) if folder.exists() else 0


def test_a_case_is_assigned_and_commented_with_who_said_it(app, stored_home: Path):
    client = signed_in(app, "ana")
    case_id = client.get("/api/networks/torus/cases").json()["cases"][2]["case_id"]
    page = client.get(f"/n/torus/cases/{case_id}")
    assert 'Assigned to <strong id="assignee">nobody' in page.text
    token = csrf_of(page.text)
    for kind, text in (("assignment", "ana"), ("comment", "pays 14 new payees once each")):
        done = client.post(
            f"/n/torus/cases/{case_id}/notes", data={"kind": kind, "text": text, "csrf": token}
        )
        assert done.status_code == 200, done.text
    case = client.get(f"/api/networks/torus/cases/{case_id}").json()
    assert case["assignee"] == "ana"
    said = [(n["kind"], n["analyst"], n["text"]) for n in case["notes"]]
    assert said == [
        ("assignment", "ana", "ana"),
        ("comment", "ana", "pays 14 new payees once each"),
    ]
    mine = client.get("/api/networks/torus/cases", params={"assignee": "ana"}).json()
    assert [c["case_id"] for c in mine["cases"]] == [case_id]
    assert mine["cases"][0]["assignee"] == "ana"
    # The same comment sent twice (a form resubmitted) is one; a script uses the API.
    before = notes_written(stored_home)
    again = client.post(
        f"/api/networks/torus/cases/{case_id}/notes",
        json={"kind": "comment", "text": "pays 14 new payees once each"},
        headers={"X-CSRF-Token": token},
    )
    assert again.json() == {"recorded": False, "analyst": "ana"}
    assert notes_written(stored_home) == before
    unassigned = client.post(
        f"/api/networks/torus/cases/{case_id}/notes",
        json={"kind": "assignment", "text": ""},
        headers={"X-CSRF-Token": token},
    )
    assert unassigned.json()["recorded"] is True
    assert client.get(f"/api/networks/torus/cases/{case_id}").json()["assignee"] == ""


def test_notes_are_refused_in_words_and_write_nothing(app, stored_home: Path):
    client = signed_in(app, "ana")
    case_id = client.get("/api/networks/torus/cases").json()["cases"][3]["case_id"]
    token = csrf_of(client.get(f"/n/torus/cases/{case_id}").text)
    before = notes_written(stored_home)
    for body, status, said in (
        ({"kind": "assignment", "text": "vic"}, 422, "assignee: 'vic' is no analyst"),
        ({"kind": "comment", "text": "  "}, 422, "text: a comment needs words"),
        ({"kind": "shout", "text": "x"}, 422, "kind"),
    ):
        answer = client.post(
            f"/api/networks/torus/cases/{case_id}/notes", json=body,
            headers={"X-CSRF-Token": token},
        )  # fmt: skip
        assert answer.status_code == status and said in answer.text, answer.text
    nowhere = client.post(
        "/api/networks/torus/cases/case-404/notes",
        json={"kind": "comment", "text": "x"},
        headers={"X-CSRF-Token": token},
    )
    assert nowhere.status_code == 404
    viewer = signed_in(app, "vic")
    vtoken = csrf_of(viewer.get(f"/n/torus/cases/{case_id}").text)
    refused = viewer.post(
        f"/n/torus/cases/{case_id}/notes", data={"kind": "comment", "text": "x", "csrf": vtoken}
    )
    assert refused.status_code == 403
    assert notes_written(stored_home) == before
