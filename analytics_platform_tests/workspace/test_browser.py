"""The workspace in headless Chromium (Debian's ``chromium``, driven by Playwright), as an
analyst uses it: signed out to the login page, the queue, a filter, a case with its evidence
picture, a dismissal with a note seen in the queue and in ``case dispositions``, a new
verdict pushed to an open queue without a reload, a viewer refused. Screenshots of the queue
and the case page are kept in ``$ANALYTICS_TEST_ARTEFACTS`` (default
``.analytics/test-artefacts``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from analytics_platform_tests.workspace.conftest import PASSWORD

ARTEFACTS = Path(os.environ.get("ANALYTICS_TEST_ARTEFACTS", ".analytics/test-artefacts"))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is not installed: run scripts/setup.sh"
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        yield launched
        launched.close()


def sign_in(page, base: str, name: str, target: str = "/") -> None:
    page.goto(base + target)
    assert "/login" in page.url  # anonymous: sent to sign in, and back after
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_an_analyst_works_a_case_in_the_browser(browser, served: str, capsys):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, served, "ana", "/n/torus/queue")
    page.wait_for_selector("#queue tbody tr[data-case]")
    assert page.url.endswith("/n/torus/queue")
    rows = page.locator("#queue tbody tr[data-case]")
    total = rows.count()
    page.screenshot(path=str(ARTEFACTS / "workspace-queue.png"), full_page=True)
    # A filter narrows the list to one typology.
    typology = rows.first.locator("td").nth(4).inner_text().split(",")[0].strip()
    page.fill("input[name=typology]", typology)
    page.click("form.filters button")
    page.wait_for_load_state()
    kept = page.locator("#queue tbody tr[data-case]")
    assert 0 < kept.count() <= total
    assert all(
        typology in kept.nth(i).locator("td").nth(4).inner_text() for i in range(kept.count())
    )
    # The case page, its evidence picture drawn.
    case_id = kept.first.get_attribute("data-case")
    kept.first.locator("td").nth(2).locator("a").click()
    page.wait_for_selector("img.evidence")
    width = page.eval_on_selector("img.evidence", "img => img.complete && img.naturalWidth")
    assert width and width > 100
    page.screenshot(path=str(ARTEFACTS / "workspace-case.png"), full_page=True)
    page.fill("input[name=note]", "known exchange sweep")
    page.click("button[value=dismissed]")
    page.wait_for_selector(".banner")
    assert "known exchange sweep" in page.inner_text("body")
    # Back in the queue: the verdict shows; and in the CLI's log.
    page.goto(f"{served}/n/torus/queue?disposition=dismissed")
    assert page.locator(f"tr[data-case='{case_id}']").count() == 1
    from analytics_platform.cli import main

    assert main(["case", "dispositions"]) == 0
    assert "dismissed" in capsys.readouterr().out
    page.close()


def test_an_open_queue_shows_a_new_verdict_without_a_reload(browser, served: str):
    page = browser.new_page()
    sign_in(page, served, "ana", "/n/torus/queue")
    page.wait_for_selector("#queue tbody tr[data-case]")
    row = page.locator("#queue tbody tr[data-case]").last
    case_id = row.get_attribute("data-case")
    # Another analyst's script records a verdict; the page hears of it and refreshes its rows.
    csrf = page.input_value("header input[name=csrf]")
    answer = page.request.post(
        f"{served}/api/networks/torus/cases/{case_id}/disposition",
        data={"disposition": "confirmed", "note": "seen elsewhere"},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.ok, answer.text()
    page.wait_for_selector(f"tr[data-case='{case_id}'] .confirmed", timeout=15_000)
    assert page.is_visible("#fresh")
    page.close()


def test_a_viewer_reads_but_cannot_dispose(browser, served: str):
    page = browser.new_page()
    sign_in(page, served, "vic")
    page.wait_for_selector("#queue tbody tr[data-case]")
    case_id = page.locator("#queue tbody tr[data-case]").first.get_attribute("data-case")
    page.goto(f"{served}/n/torus/cases/{case_id}")
    assert "Viewers cannot record verdicts" in page.inner_text("body")
    csrf = page.input_value("header input[name=csrf]")
    refused = page.request.post(
        f"{served}/n/torus/cases/{case_id}/disposition",
        form={"disposition": "confirmed", "csrf": csrf},
    )
    assert refused.status == 403
    page.close()
