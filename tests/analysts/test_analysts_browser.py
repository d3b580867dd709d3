"""The report in headless Chromium: every chart draws, no script errors, a screenshot to look at.

Chromium comes from ``make browser`` (Debian's package). Without it the test skips locally but
fails in CI (``CI`` set), so a missing browser can never pass silently there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from features.report import build_report
from features.store import connect

pytestmark = pytest.mark.slow

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--disable-dev-shm-usage", "--virtual-time-budget=20000", "--window-size=1400,3300"]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    message = "chromium is not installed: run `make browser`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def render(page: Path, tmp: Path) -> tuple[str, Path]:
    """Load ``page`` in headless Chromium; returns (DOM after scripts ran, screenshot path)."""
    shot = tmp / f"{page.stem}.png"
    cmd = [chromium(), *FLAGS, f"--user-data-dir={tmp / 'profile'}", f"--screenshot={shot}",
           "--dump-dom", page.resolve().as_uri()]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    print(f"chromium rendered {page.name} in {time.perf_counter() - t0:.1f} s; screenshot: {shot}")
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout, shot


def panels(dom: str) -> dict[str, str]:
    """Each panel's HTML by its chart id."""
    out = {}
    for part in dom.split('<section class="panel')[1:]:
        chart_id = part.split('class="chart', 1)[1].split('id="', 1)[1].split('"', 1)[0]
        out[chart_id] = part.split("</section>", 1)[0]
    return out


def status(dom: str) -> str:
    return dom.split('id="report-status"', 1)[0].rsplit("<div", 1)[1] + dom.split(
        'id="report-status"', 1)[1].split("</div>", 1)[0]


def test_every_chart_draws_without_script_errors(world, tmp_path):
    page = build_report(world, tmp_path / "report.html")
    dom, shot = render(page, tmp_path)
    st = status(dom)
    assert 'data-state="ok"' in st, st
    assert 'data-charts="11"' in st, st
    drawn = panels(dom)
    assert len(drawn) == 11
    for chart_id, html in drawn.items():
        assert "main-svg" in html and "plot-container" in html, f"{chart_id} did not draw"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_empty_store_renders_no_data_panels(tmp_path):
    con = connect(tmp_path / "empty.duckdb")
    page = build_report(con, tmp_path / "empty.html")
    con.close()
    dom, _ = render(page, tmp_path)
    assert 'data-state="ok"' in status(dom)
    drawn = panels(dom)
    assert len(drawn) == 11
    assert all("No " in html and "main-svg" not in html for html in drawn.values())
