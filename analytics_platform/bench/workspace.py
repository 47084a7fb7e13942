"""``bench workspace``: the analysts' workspace under load, through the product. It starts
``analytics-platform serve`` on a store (default: the demo's), adds a viewer with an API token
(``analytics-platform user``), then ``clients`` concurrent clients call the queue, case and
address endpoints for ``seconds`` (bounded, on localhost), and headless Chromium loads the
queue page. Latencies per endpoint (p50/p95/p99), errors and requests per second are printed."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

from analytics_platform.kafka.broker import free_port

CLI = [sys.executable, "-m", "analytics_platform.cli"]


def _viewer_token(home: Path) -> str:
    env = {**os.environ, "BENCH_PASSWORD": secrets.token_urlsafe(16)}
    add = [*CLI, "user", "add", "bench", "--role", "viewer", "--password-env", "BENCH_PASSWORD"]
    subprocess.run([*add, "--home", str(home)], check=True, env=env, capture_output=True)
    made = subprocess.run(
        [*CLI, "user", "token", "bench", "--home", str(home)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return made.stdout.strip()


def _targets(base: str, headers: dict[str, str]) -> list[tuple[str, str]]:
    """(endpoint, path) to call: the latest day's queue, its top cases and their addresses."""
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        network = client.get("/api/networks").json()[0]["name"]
        cases = client.get(f"/api/networks/{network}/cases", params={"size": 20}).json()
    queue = ("queue", f"/api/networks/{network}/cases")
    out = []
    for case in cases["cases"]:
        out += [
            queue,
            ("case", f"/api/networks/{network}/cases/{case['case_id']}"),
            ("address", f"/api/networks/{network}/addresses/{case['address']}"),
        ]
    return out


async def _load(base: str, headers, targets, clients: int, seconds: float) -> list[tuple]:
    """(endpoint, seconds, status) of every call ``clients`` concurrent clients made.

    aiohttp rather than httpx: the clients share the server's two cores, and httpx spent about
    twice the server's time per request, so the figures measured the load more than the app."""
    import aiohttp

    done: list[tuple] = []
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        base_url=base, headers=headers, connector=connector, timeout=timeout
    ) as session:

        async def client(k: int) -> None:
            i = k
            while time.monotonic() < deadline:
                name, path = targets[i % len(targets)]
                started = time.perf_counter()
                try:
                    async with session.get(path) as answer:
                        await answer.read()
                        status = answer.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                done.append((name, time.perf_counter() - started, status))
                i += clients

        await asyncio.gather(*(client(k) for k in range(clients)))
    return done


def _queue_page_seconds(base: str, headers: dict[str, str], network: str) -> float | None:
    """Seconds headless Chromium takes to load the queue page (navigation to load end)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(extra_http_headers=headers)
        page.goto(f"{base}/n/{network}/queue", wait_until="load")
        ms = page.evaluate(
            "() => { const t = performance.getEntriesByType('navigation')[0];"
            " return t.loadEventEnd - t.startTime; }"
        )
        browser.close()
    return ms / 1000


def run_workspace_bench(home: Path, clients: int = 50, seconds: float = 60.0) -> dict:
    if not (home / "lake").exists():
        raise FileNotFoundError(f"--home: no lake under {home}; run `analytics-platform demo`")
    headers = {"Authorization": f"Bearer {_viewer_token(home)}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*CLI, "serve", "--home", str(home), "--port", str(port)],
        stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/networks", headers=headers).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("bench workspace: the server did not start")
            time.sleep(0.2)
        targets = _targets(base, headers)
        print(f"{clients} clients for {seconds:.0f} s on {len(targets)} paths...", file=sys.stderr)
        calls = asyncio.run(_load(base, headers, targets, clients, seconds))
        network = targets[0][1].split("/")[3]
        page_s = _queue_page_seconds(base, headers, network)
    finally:
        os.killpg(server.pid, 9)
    return _report(calls, clients, seconds, page_s)


def _report(calls: list[tuple], clients: int, seconds: float, page_s: float | None) -> dict:
    by = {}
    for name in sorted({c[0] for c in calls}) + ["all"]:
        mine = [c for c in calls if name in ("all", c[0])]
        ms = np.array([c[1] for c in mine]) * 1000
        by[name] = {
            "requests": len(mine),
            "errors": sum(1 for c in mine if c[2] != 200),
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "per_second": round(len(mine) / seconds, 1),
        }
    return {"clients": clients, "seconds": seconds, "endpoints": by, "queue_page_s": page_s}


def format_report(r: dict) -> str:
    lines = [f"bench workspace: {r['clients']} clients, {r['seconds']:.0f} s"]
    lines.append(f"  {'endpoint':<10}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}"
                 f"{'p99 ms':>9}{'per s':>8}")  # fmt: skip
    for name, e in r["endpoints"].items():
        lines.append(
            f"  {name:<10}{e['requests']:>10,}{e['errors']:>8}{e['p50_ms']:>9}{e['p95_ms']:>9}"
            f"{e['p99_ms']:>9}{e['per_second']:>8}"
        )
    page = r["queue_page_s"]
    lines.append(f"  queue page in Chromium: {page:.2f} s" if page is not None else "  no chromium")
    return "\n".join(lines)
