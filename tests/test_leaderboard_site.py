"""The static leaderboard site, in a real headless Chromium (Debian `chromium` + `chromium-driver`, Selenium).

Three accepted entries built from one real lm-eval run: scores 0.375, 0.0 and 1.0 (pass@1), the last one with a
display name that is an HTML/JS injection attempt. The page must load, sort on a header click, show the pass@k
curves, and show the hostile name as plain text without running any of it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _leaderboard_fixtures import REVISION, TASK, make_run_dir, renamed_model, rewrite_responses, submission
from midrl_bench.leaderboard.serve import serve_in_thread
from midrl_bench.leaderboard.site import build_site
from midrl_bench.leaderboard.store import submit

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">Evil "model" & co'
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(leaderboard_lm_eval_dir, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("site-test")
    lm_eval_dir = leaderboard_lm_eval_dir
    store = root / "store"
    entries = [  # (model overrides, correct responses per document -> pass@1)
        ({"id": "midrl-test/alpha", "display_name": "Alpha"}, [2, 1]),  # 0.375
        ({"id": "midrl-test/zero"}, None),  # 0.0: the untouched random-model run
        ({"id": "midrl-test/evil", "display_name": HOSTILE}, [4, 4]),  # 1.0
    ]
    for index, (model, correct) in enumerate(entries):
        run = make_run_dir(lm_eval_dir, root / f"run{index}", submission(**model))
        renamed_model(run, model["id"])  # one honest run stands for three models: its results name each in turn
        if correct:
            rewrite_responses(run, correct)
        submit(run, store, allow_partial=True)
    out = root / "site"
    build_site(store, out)
    return out


@pytest.fixture(scope="module")
def browser(site):
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={site.parent / 'chromium-profile'}")
    server, base_url = serve_in_thread(site)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver, base_url
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()


def _model_column(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, "#table-midrl_math tbody tr")
    return [row.find_element(By.CSS_SELECTOR, "td a").text for row in rows]


def test_page_loads_and_hostile_name_is_text(browser):
    from selenium.webdriver.common.by import By

    driver, base_url = browser
    driver.get(base_url)
    assert driver.title == "midrl-bench leaderboard"
    assert sorted(_model_column(driver)) == sorted(["Alpha", "midrl-test/zero", HOSTILE])  # shown verbatim
    assert driver.execute_script("return window.__pwned === undefined")  # neither payload ran
    scripts = [s.get_attribute("src") for s in driver.find_elements(By.TAG_NAME, "script")]
    assert scripts == [base_url + "site.js"]  # the payload's <script> was not parsed as an element
    assert not driver.find_elements(By.CSS_SELECTOR, 'img[src="x"]')


def test_clicking_a_header_sorts_the_table(browser):
    from selenium.webdriver.common.by import By

    driver, base_url = browser
    driver.get(base_url)
    header = next(th for th in driver.find_elements(By.CSS_SELECTOR, "#table-midrl_math thead th")
                  if th.text.startswith("aime24 pass@1"))
    header.click()  # numeric columns sort best first
    assert _model_column(driver) == [HOSTILE, "Alpha", "midrl-test/zero"]
    assert header.get_attribute("aria-sort") == "descending"
    header.click()
    assert _model_column(driver) == ["midrl-test/zero", "Alpha", HOSTILE]
    assert header.get_attribute("aria-sort") == "ascending"
    name_header = driver.find_element(By.CSS_SELECTOR, "#table-midrl_math thead th")
    name_header.click()  # text columns sort A-Z (case-insensitive; '<' sorts before letters)
    assert _model_column(driver) == [HOSTILE, "Alpha", "midrl-test/zero"]


def test_curves_are_shown_on_index_and_entry_pages(browser):
    from selenium.webdriver.common.by import By

    driver, base_url = browser
    for page in ("", f"entries/midrl-test--evil--{REVISION}.html"):
        driver.get(base_url + page)
        images = driver.find_elements(By.CSS_SELECTOR, "img.curves")
        assert images, page
        for image in images:  # the SVG was fetched and decoded (a broken image has naturalWidth 0)
            assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 0
    assert driver.find_element(By.ID, "entry-name").text == HOSTILE
    assert driver.execute_script("return window.__pwned === undefined")


def test_html_files_never_contain_the_raw_payload(site):
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>window" not in text and "onerror=\"" not in text, page
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in text or "evil" not in page.name
    for plot in (site / "plots").glob("*.svg"):
        svg = plot.read_text(encoding="utf-8")
        assert "<text" not in svg and "<script" not in svg  # text drawn as paths, nothing executable
    assert f"{TASK}" in (site / "index.html").read_text(encoding="utf-8")
