"""index.html in headless Chromium (Debian's), served by `serve`, at a phone's size.

Set INNERCHILD_SCREENSHOT=/tmp/page.png to keep a screenshot of the page.
The accessibility check runs axe-core from the npm install that scripts/install-browser.sh
makes outside the repository (or the axe.min.js named by INNERCHILD_AXE_JS).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from publish_helpers import EPISODE_SLUGS, TRICKY_TITLE, build_library, sine_mp3

from innerchild_audio.publish import publish_site
from innerchild_audio.serve import serve_in_thread

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
AXE_JS = Path(os.environ.get(
    "INNERCHILD_AXE_JS", "/opt/innerchild-audio/node/node_modules/axe-core/axe.min.js"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Debian's chromium is not installed at /usr/bin/chromium "
                              "(scripts/install-browser.sh installs it)"),
]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser")
    rendered, podcast = build_library(root, sine_mp3(root / "sine.mp3"))
    result = publish_site(rendered, root / "site", channel_file=podcast,
                          base_url="https://podcast.example.org/inner-child")
    server, thread = serve_in_thread(result.out_dir)
    yield f"http://127.0.0.1:{server.port}/"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _context(browser, **options):
    context = browser.new_context(viewport=PHONE, **options)
    # Only the local server: the page's off-site images (people's photos) stay unfetched.
    context.route("**/*", lambda route: route.continue_()
                  if route.request.url.startswith("http://127.0.0.1:") else route.abort())
    return context


@pytest.fixture(scope="module")
def page(browser, url: str):
    context = _context(browser, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="load")
    page.errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


def test_every_episode_is_on_the_page(page):
    ids = page.eval_on_selector_all("article.episode", "els => els.map(e => e.id)")
    assert sorted(ids) == sorted(EPISODE_SLUGS)
    titles = page.eval_on_selector_all("article.episode h2", "els => els.map(e => e.textContent)")
    assert TRICKY_TITLE in titles  # escaped in the HTML, shown intact
    assert page.locator("#subscribe").get_attribute("href") == "feed.xml"
    assert page.locator("#feed-url").text_content() == page.url + "feed.xml"
    assert page.errors == []


def test_audio_reports_a_duration_once_metadata_loads(page):
    page.wait_for_function(
        """() => [...document.querySelectorAll('audio')]
                 .every(a => a.readyState >= 1 && a.duration > 0)""",
        timeout=20_000,
    )
    durations = page.eval_on_selector_all("audio", "els => els.map(e => e.duration)")
    assert len(durations) == 3
    assert all(1.9 < d < 2.2 for d in durations), durations  # the 2-second sine


def test_chapter_link_seeks_the_player(page):
    link = page.locator("#meeting-your-child-self a[data-start='1.25']")
    link.click()
    position = page.eval_on_selector("#meeting-your-child-self audio", "a => a.currentTime")
    assert 1.2 <= position < 2.2
    page.eval_on_selector("#meeting-your-child-self audio", "a => a.pause()")


def test_page_fits_a_phone_screen(page):
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    font_px = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('.notes p')).fontSize)")
    assert font_px >= 16
    if os.environ.get("INNERCHILD_SCREENSHOT"):
        page.screenshot(path=os.environ["INNERCHILD_SCREENSHOT"], full_page=True)


def test_without_javascript_the_shape_and_chapters_still_read(browser, url: str):
    context = _context(browser, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        strip = page.locator("#meeting-your-child-self .strip")
        box = strip.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 20
        segments = strip.locator(".chapter")
        assert segments.all_text_contents() == ["1", "2", "3"]
        widths = [segments.nth(i).bounding_box()["width"] for i in range(3)]
        assert widths[0] == pytest.approx(widths[1] * 0.5 / 0.75, rel=0.05)  # 0.5 s, 0.75 s
        links = page.locator("#meeting-your-child-self .chapters a")
        assert links.evaluate_all("els => els.map(a => a.getAttribute('href'))") == [
            "episodes/meeting-your-child-self.mp3#t=0",
            "episodes/meeting-your-child-self.mp3#t=0.5",
            "episodes/meeting-your-child-self.mp3#t=1.25",
        ]
        assert links.nth(1).is_visible()
        assert not strip.locator(".playhead").is_visible()  # nothing follows a silent player
    finally:
        context.close()


def _seek_position(page, slug: str) -> float:
    return page.eval_on_selector(f"#{slug} audio", "a => a.currentTime")


def test_clicking_a_chapter_on_the_strip_seeks_there(page):
    page.wait_for_function("() => document.querySelector('#meeting-your-child-self audio')"
                           ".readyState >= 1", timeout=20_000)
    segment = page.locator("#meeting-your-child-self .strip .chapter[data-start='0.5']")
    assert segment.text_content() == "2"
    segment.click()
    assert 0.5 <= _seek_position(page, "meeting-your-child-self") < 1.2
    page.eval_on_selector("#meeting-your-child-self audio", "a => a.pause()")
    # The playhead follows the player.
    assert page.locator("#meeting-your-child-self .playhead").is_visible()
    page.wait_for_function("() => document.querySelector('#meeting-your-child-self .playhead')"
                           ".style.left !== ''", timeout=5_000)


def test_a_chapter_is_reached_and_played_from_the_keyboard(page):
    target = "#a-safe-place .chapters a[data-start='0']"
    page.eval_on_selector("#a-safe-place audio", "a => { a.currentTime = 1.5; }")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.locator("#a-safe-place h2").click()  # start the Tab order inside this episode
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => document.activeElement === document.querySelector({target!r})"):
            break
    else:
        pytest.fail("Tab never reached the chapter link")
    page.keyboard.press("Enter")
    assert _seek_position(page, "a-safe-place") < 0.5
    page.eval_on_selector("#a-safe-place audio", "a => a.pause()")


@pytest.mark.skipif(not AXE_JS.is_file(),
                    reason=f"axe-core not found at {AXE_JS}: scripts/install-browser.sh "
                           "installs it with npm (or set INNERCHILD_AXE_JS)")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_accessibility_violations(page, scheme: str):
    page.emulate_media(color_scheme=scheme)
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    results = page.evaluate("""() => axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                        'best-practice']}})""")
    checked = {rule["id"] for rule in results["passes"]}
    # Contrast, names of links and images, and the page's landmarks were all checked.
    assert {"color-contrast", "link-name", "image-alt", "landmark-one-main"} <= checked
    serious = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                "nodes": [n["html"][:120] for n in v["nodes"][:3]]}
               for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps(serious, indent=2)
