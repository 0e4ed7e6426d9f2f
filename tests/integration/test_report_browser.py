"""The HTML report in a real headless browser (Debian's chromium through selenium).

Typing in the filter, choosing a status and clicking column headers must change what the page
shows: this proves the page's script works in a browser, not only that it is in the file.
Chromium and its driver come from the system; on a clean machine (CI runs as root with apt
reachable) the fixture installs them with apt-get once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from .conftest import NOW, Bcsync

# Real processes and sockets: seconds each; `scripts/test --fast` skips them.
pytestmark = pytest.mark.slow

PACKAGES = ("chromium", "chromium-driver")


def system_chromium() -> tuple[str, str]:
    """Paths of chromium and chromedriver, installed with apt-get when missing (root only)."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(f"the browser test needs {' and '.join(PACKAGES)}: apt-get install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=900)
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES]
    subprocess.run(install, check=True, env=env, timeout=1800, capture_output=True)
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert browser and driver, "apt-get installed chromium but it is not on PATH"
    return browser, driver


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    binary, driver_path = system_chromium()
    options = Options()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    # An explicit driver path: selenium never tries to download one.
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


VISIBLE = """
return Array.from(document.querySelectorAll('#access tbody tr'))
  .filter(r => !r.hidden)
  .map(r => Array.from(r.cells).map(c => c.textContent));
"""


def visible(driver: webdriver.Chrome) -> list[list[str]]:
    rows = driver.execute_script(VISIBLE)
    assert isinstance(rows, list)
    return rows


def column(name: str) -> int:
    from bcsync.render.report_table import HEADERS

    return list(HEADERS).index(name)


def header(driver: webdriver.Chrome, name: str):
    return driver.find_elements(By.CSS_SELECTOR, "#access thead th")[column(name)]


def test_filter_and_sort_in_a_real_browser(
    bcsync: Bcsync, quickstart: Path, tmp_path: Path, browser: webdriver.Chrome
) -> None:
    page = tmp_path / "access.html"
    result = bcsync("report", "quickstart", "--format", "html", "--out", str(page), "--now", NOW)
    assert result.exit_code == 0, result.output
    browser.get(page.as_uri())
    everything = visible(browser)
    total = len(everything)
    assert total > 20
    count = browser.find_element(By.ID, "count")
    assert count.text == f"{total} of {total} rows shown"

    # Free text: every word must match somewhere in the row.
    box = browser.find_element(By.ID, "filter")
    box.send_keys("grace catalog")
    shown = visible(browser)
    assert len(shown) == 1 and "grace@acme.com" in shown[0] and "catalog" in shown[0]
    assert count.text == f"1 of {total} rows shown"
    box.clear()
    box.send_keys("grace")
    assert len(visible(browser)) == 4
    assert all("grace@acme.com" in row for row in visible(browser))

    # The status select narrows to one status; combined with the text filter.
    box.clear()
    box.send_keys(" ")  # an input event with no words: everything again
    Select(browser.find_element(By.ID, "status-filter")).select_by_value("ignored")
    ignored = visible(browser)
    status = column("Status")
    assert {r[status] for r in ignored} == {"ignored"} and len(ignored) == 2
    assert {r[column("Who")] for r in ignored} == {"agent@tiktok-support.example"}
    Select(browser.find_element(By.ID, "status-filter")).select_by_value("")
    assert len(visible(browser)) == total

    # Sorting: click a header for ascending, again for descending; empty cells stay last.
    header(browser, "Status").click()
    statuses = [r[status] for r in visible(browser)]
    assert statuses == sorted(statuses, key=str.casefold) and statuses[0] == "ignored"
    assert header(browser, "Status").get_attribute("aria-sort") == "ascending"
    header(browser, "Status").click()
    assert [r[status] for r in visible(browser)] == sorted(statuses, key=str.casefold)[::-1]
    assert header(browser, "Status").get_attribute("aria-sort") == "descending"

    expires = column("Expires")
    header(browser, "Expires").click()
    dates = [r[expires] for r in visible(browser)]
    filled = [d for d in dates if d]
    assert filled == sorted(filled) and filled and dates[: len(filled)] == filled
    browser.save_screenshot(str(tmp_path / "report.png"))
