"""The story browser in a real headless browser (Debian's chromium, driven by selenium).

``monitor web --replay`` serves the seeds and an article whose title is a script; the tests
read the pages as a person would, with and without JavaScript. The story page's screenshot
is written to the test's output folder (``web-screenshots`` under pytest's base temp).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from monitor.commands.replay import read_articles
from monitor.pipeline import Pipeline
from monitor.web.app import DECISION_LABELS

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "tests" / "data" / "seeds.jsonl"
XSS_TITLE = "<script>alert(1)</script>"
XSS_ARTICLE = {
    "id": "xss-1",
    "outlet": "evil",
    "title": XSS_TITLE,
    "text": "أعلنت وزارة الزراعة المصرية اليوم عن خطة جديدة لدعم مزارعي القطن في محافظات الدلتا "
    "خلال الموسم المقبل، تشمل توزيع البذور المحسنة وتقديم قروض ميسرة للمزارعين الصغار.",
    "published": "2024-01-02T10:00:00+00:00",
}


def _browser(javascript: bool = True) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1000,1400", "--lang=ar"):  # fmt: skip
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(options=options, service=Service(driver_path))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``monitor web --replay`` of the seeds and the script-titled article; its base URL."""
    folder = tmp_path_factory.mktemp("web")
    xss = folder / "xss.jsonl"
    xss.write_text(json.dumps(XSS_ARTICLE, ensure_ascii=False) + "\n", encoding="utf-8")
    port = _free_port()
    log = (folder / "web.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "web", "--replay", str(SEEDS), str(xss),
         "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (folder / "web.log").read_text()
            assert time.monotonic() < deadline, "monitor web did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    driver = _browser()
    try:
        yield driver
    finally:
        driver.quit()


async def _expected_badges() -> list[tuple[str, str]]:
    """(outlet, badge) per seed article, in publication order, as the pipeline decides."""
    async with Pipeline() as pipeline:
        decided = [d async for d, _ in pipeline.process_many(read_articles([SEEDS]))]
    decided.sort(key=lambda d: d.published or 0)
    return [(d.outlet, DECISION_LABELS[d.decision]) for d in decided]


def _story_link(browser: webdriver.Chrome, base: str, words: str) -> str:
    browser.get(base + "/")
    box = browser.find_element(By.NAME, "q")
    box.send_keys(words)
    box.submit()
    # submit() returns before the results page has loaded: reading the old page's (or a
    # half-loaded page's) links made this flaky. Wait until the form is gone and the new
    # page has finished loading.
    wait = WebDriverWait(browser, 20)
    wait.until(expected_conditions.staleness_of(box))
    wait.until(lambda driver: driver.execute_script("return document.readyState") == "complete")
    links = browser.find_elements(By.CSS_SELECTOR, "ol.stories h2 a")
    assert links, browser.page_source
    return str(links[0].get_attribute("href"))


async def test_seeds_story_page(
    site: str, browser: webdriver.Chrome, tmp_path_factory: pytest.TempPathFactory
) -> None:
    browser.get(site + "/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "rtl"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ar"
    # Searching «بوتين» finds the seeds' story, and only it.
    href = _story_link(browser, site, "بوتين")
    assert len(browser.find_elements(By.CSS_SELECTOR, "ol.stories li")) == 1
    browser.get(href)
    entries = browser.find_elements(By.CSS_SELECTOR, "ol.timeline > li")
    assert len(entries) == 5
    published = [e.find_element(By.TAG_NAME, "time").get_attribute("datetime") for e in entries]
    assert published == sorted(published)  # publication order
    shown = [
        (e.find_element(By.CLASS_NAME, "outlet").text, e.find_element(By.CLASS_NAME, "badge").text)
        for e in entries
    ]
    assert shown == await _expected_badges()
    assert shown[0][1] == "قصة جديدة"
    assert browser.find_elements(By.CSS_SELECTOR, "ol.timeline mark")  # new sentences
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect")
    folder = tmp_path_factory.getbasetemp() / "web-screenshots"
    folder.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(folder / "story.png"))
    assert (folder / "story.png").stat().st_size > 10_000


def test_script_title_is_text(site: str, browser: webdriver.Chrome) -> None:
    browser.get(_story_link(browser, site, "القطن"))
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 (the script never ran)
    assert browser.find_element(By.TAG_NAME, "h1").text == XSS_TITLE
    titles = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "ol.timeline h3")]
    assert titles == [XSS_TITLE]


def test_pages_work_without_javascript(site: str) -> None:
    driver = _browser(javascript=False)
    try:
        href = _story_link(driver, site, "بوتين")
        driver.get(href)
        assert len(driver.find_elements(By.CSS_SELECTOR, "ol.timeline > li")) == 5
        driver.get(site + "/stories/no-such-story")
        assert "غير موجود" in driver.find_element(By.TAG_NAME, "h1").text
    finally:
        driver.quit()
