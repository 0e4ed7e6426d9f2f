"""The HTML report in a real headless browser (Debian's chromium through selenium).

Typing in the filter, choosing a status and clicking column headers must change what the page
shows, and the matrix, per-person and per-asset views must draw: this proves the page's script
works in a browser, not only that it is in the file. The key columns must fit a 1,280-pixel
window. Chromium and its driver come from the system: the test command's set-up
(`scripts/test`) installs Debian's `chromium` and `chromium-driver` when they are missing; a
test never installs anything.
"""

from __future__ import annotations

import shutil
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
    """Paths of chromium and chromedriver; a clear failure naming the set-up when missing."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        pytest.fail(
            f"the browser test needs {' and '.join(PACKAGES)}: run `bash scripts/test` (its "
            "set-up installs them when missing) or `apt-get install` them"
        )
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
    assert statuses == sorted(statuses, key=str.casefold) and statuses[0] == "admin role"
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


def report_page(bcsync: Bcsync, tmp_path: Path, browser: webdriver.Chrome) -> None:
    page = tmp_path / "access.html"
    result = bcsync("report", "quickstart", "--format", "html", "--out", str(page), "--now", NOW)
    assert result.exit_code == 0, result.output
    browser.get(page.as_uri())


def cells_of(driver: webdriver.Chrome, table: str) -> list[list[str]]:
    found = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' tr'))"
        ".map(r => Array.from(r.cells).map(c => c.textContent));",
        f"#{table}",
    )
    assert isinstance(found, list)
    return found


def view(driver: webdriver.Chrome, name: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f'nav#views button[data-view="{name}"]').click()
    for other in ("table", "matrix", "person", "asset"):
        shown = driver.find_element(By.ID, f"view-{other}").is_displayed()
        assert shown is (other == name), other


def test_matrix_person_and_asset_views_draw_from_the_rows(
    bcsync: Bcsync, quickstart: Path, tmp_path: Path, browser: webdriver.Chrome
) -> None:
    report_page(bcsync, tmp_path, browser)
    assert "Provenance" in browser.find_element(By.ID, "provenance").text
    assert "local Business Center (emulator)" in browser.find_element(By.ID, "provenance").text

    view(browser, "matrix")
    Select(browser.find_element(By.ID, "matrix-type")).select_by_value("ad_accounts")
    grid = cells_of(browser, "matrix")
    head, rows = grid[0], {r[0]: r[1:] for r in grid[1:]}
    us = head.index("acme-us (7100000000000000001)") - 1
    assert rows["bob@acme.com"][us] == "operator"  # the config's role
    assert rows["owner@acme.com"][us] == "admin (role)"  # through the BC admin role
    assert rows["agency-x (Agency X)"][us] == "analyst"  # a partner's share
    Select(browser.find_element(By.ID, "matrix-type")).select_by_value("tiktok_accounts")
    brand = {r[0]: r[1] for r in cells_of(browser, "matrix")[1:]}
    assert (
        brand["carol@acme.com"] == "live,post"
        and brand["erin@acme.com"] == "direct_message,live,post"
    )

    view(browser, "person")
    Select(browser.find_element(By.ID, "person-select")).select_by_value("grace@acme.com")
    mine = cells_of(browser, "person-table")
    assert mine[0][:3] == ["Business Center", "Asset type", "Asset"]
    assert {(r[1], r[2]) for r in mine[1:]} == {
        ("business center", "Acme Retail (7012345678901234567)"),
        ("ad account", "acme-eu (7100000000000000002)"),
        ("ad account", "acme-us (7100000000000000001)"),
        ("catalog", "main (7300000000000000001)"),
    }

    view(browser, "asset")
    Select(browser.find_element(By.ID, "asset-select")).select_by_value(
        "7012345678901234567/ad_accounts/7100000000000000001"
    )
    reach = {r[0]: r for r in cells_of(browser, "asset-table")[1:]}
    assert reach["owner@acme.com"][4] == "admin role"  # admins shown on the asset
    assert reach["bob@acme.com"][4] == "role differs"
    view(browser, "table")


def test_key_columns_fit_a_1280_pixel_window(
    bcsync: Bcsync, quickstart: Path, tmp_path: Path, browser: webdriver.Chrome
) -> None:
    browser.set_window_size(1280, 900)
    try:
        report_page(bcsync, tmp_path, browser)
        inner = browser.execute_script("return window.innerWidth")
        assert isinstance(inner, int) and inner <= 1280
        assert browser.execute_script("return document.documentElement.scrollWidth") <= inner
        for name in ("Who", "Asset", "Role (config)", "Role (BC)", "Status", "Expires", "Reason"):
            right = browser.execute_script(
                "return arguments[0].getBoundingClientRect().right", header(browser, name)
            )
            assert right <= inner, name
    finally:
        browser.set_window_size(1400, 1000)
