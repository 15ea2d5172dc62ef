"""The site on disk: files, index.html, manifest errors and the `publish` command."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from publish_helpers import (
    CARE,
    CARE_TEXT,
    EPISODE_SLUGS,
    FUNDING,
    LICENSE,
    PEOPLE,
    TRICKY_NOTES,
    TRICKY_TITLE,
    TRICKY_WARNING,
    build_library,
    html_text,
    sine_mp3,
    write_podcast_yaml,
    write_session,
)

from innerchild_audio.cli import main
from innerchild_audio.errors import PublishError, UsageError
from innerchild_audio.publish import publish_site
from innerchild_audio.publish.shape import speech_spans

NOW = datetime(2026, 11, 27, 13, 0, tzinfo=timezone.utc)
BASE = "https://podcast.example.org/inner-child"
VOID = {"meta", "link", "img", "br", "input", "source", "track", "hr"}


@pytest.fixture(scope="module")
def sine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sine_mp3(tmp_path_factory.mktemp("audio") / "sine.mp3")


@pytest.fixture
def library(tmp_path: Path, sine: Path) -> tuple[Path, Path]:
    return build_library(tmp_path, sine)


class Page(HTMLParser):
    """Elements with their attributes and text, and a check that tags nest properly."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.elements: list[dict] = []
        self.open: list[dict] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in VOID:
            self.stack.append(tag)
            self.open.append(element)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        self.open.pop()

    def handle_data(self, data):
        for element in self.open:
            element["text"] += data

    def find(self, tag: str, **attrs: str) -> list[dict]:
        return [e for e in self.elements if e["tag"] == tag
                and all(e["attrs"].get(k.rstrip("_")) == v for k, v in attrs.items())]


def test_site_holds_every_file_the_feed_names(library, tmp_path: Path):
    rendered, podcast = library
    result = publish_site(rendered, tmp_path / "site", channel_file=podcast, base_url=BASE,
                          now=NOW)
    files = sorted(p.relative_to(result.out_dir).as_posix()
                   for p in result.out_dir.rglob("*") if p.is_file())
    expected = ["cover.jpg", "feed.xml", "index.html"] + sorted(
        f"episodes/{slug}{suffix}" for slug in EPISODE_SLUGS
        for suffix in (".mp3", ".vtt", ".srt", ".chapters.json"))
    assert files == sorted(expected)
    for slug in EPISODE_SLUGS:
        for suffix in (".mp3", ".vtt", ".srt", ".chapters.json"):
            copy = result.out_dir / "episodes" / f"{slug}{suffix}"
            assert copy.read_bytes() == (rendered / f"{slug}{suffix}").read_bytes()
    assert (result.out_dir / "feed.xml").stat().st_mode & 0o044 == 0o044  # readable by a host


def test_index_lists_every_episode_escaped_and_intact(library, tmp_path: Path):
    rendered, podcast = library
    result = publish_site(rendered, tmp_path / "site", channel_file=podcast, base_url=BASE,
                          now=NOW)
    raw = result.index_path.read_text(encoding="utf-8")
    page = Page(raw)
    assert page.errors == [] and page.stack == []
    assert "<Biscuits>" not in raw and "&lt;Biscuits&gt;" in raw and "🌱" in raw
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in raw
    articles = page.find("article")
    assert [a["attrs"]["id"] for a in articles] == [
        "three-minute-reset", "a-safe-place", "meeting-your-child-self"]
    titles = [e["text"] for e in page.find("h2")]
    assert titles == ["Three-Minute Reset", TRICKY_TITLE, "Meeting Your Child Self"]
    audios = page.find("audio")
    assert [a["attrs"]["src"] for a in audios] == [
        f"episodes/{a['attrs']['id']}.mp3" for a in articles]
    assert all("controls" in a["attrs"] and a["attrs"]["preload"] == "metadata" for a in audios)
    [warning] = [p for p in page.find("p", class_="warning")
                 if TRICKY_WARNING in p["text"]]
    assert warning["text"] == f"Content warning: {TRICKY_WARNING}"
    notes = [e for e in page.find("div", class_="notes")]
    tricky_html = raw.split('id="a-safe-place"', 1)[1].split('<div class="notes">', 1)[1]
    assert html_text(tricky_html.split("</div>", 1)[0]) == TRICKY_NOTES
    assert len(notes) == 4  # the show's notes and one per episode with notes
    for slug in EPISODE_SLUGS:
        assert page.find("a", href=f"episodes/{slug}.vtt", class_="transcript")
    assert page.find("a", href="feed.xml", id="subscribe")
    assert page.find("link", rel="alternate", type="application/rss+xml", href="feed.xml")
    assert page.find("code", id="feed-url")[0]["text"] == f"{BASE}/feed.xml"


def test_chapter_links_seek_with_a_media_fragment_fallback(library, tmp_path: Path):
    rendered, podcast = library
    result = publish_site(rendered, tmp_path / "site", channel_file=podcast, base_url=BASE,
                          now=NOW)
    page = Page(result.index_path.read_text(encoding="utf-8"))
    links = [a for a in page.find("a") if "data-start" in a["attrs"]]
    meeting = [a for a in links if "meeting-your-child-self" in a["attrs"]["href"]]
    assert [(a["attrs"]["href"], a["attrs"]["data-start"], a["text"]) for a in meeting] == [
        # number (as on the strip), time, title
        ("episodes/meeting-your-child-self.mp3#t=0", "0", "1" "0:00" "Arriving"),
        ("episodes/meeting-your-child-self.mp3#t=0.5", "0.5", "2" "0:00" "Meeting your child self"),
        ("episodes/meeting-your-child-self.mp3#t=1.25", "1.25", "3" "0:01" "Returning"),
    ]
    assert [a["text"] for a in links if "a-safe-place" in a["attrs"]["href"]] == [
        "10:00Start & <begin>"]


def test_base_url_missing_everywhere_is_a_usage_error(library, tmp_path: Path):
    rendered, podcast = library
    with pytest.raises(UsageError, match="no base URL: pass --base-url"):
        publish_site(rendered, tmp_path / "site", channel_file=podcast)
    assert not (tmp_path / "site").exists()


def _manifest_error(rendered: Path, podcast: Path, tmp_path: Path) -> str:
    with pytest.raises(PublishError) as caught:
        publish_site(rendered, tmp_path / "site", channel_file=podcast, base_url=BASE)
    return str(caught.value)


def _edit(path: Path, **changes) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        target = data
        *parents, last = key.split("__")
        for parent in parents:
            target = target[parent]
        target[last] = value
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(("changes", "message"), [
    ({"audio__bytes": 5}, "audio.bytes says 5 but a-safe-place.mp3 has"),
    ({"files__vtt": "gone.vtt"}, "files.vtt names gone.vtt, which does not exist"),
    ({"files__audio": "../a-safe-place.mp3"}, "files.audio must be a file name in the same "
                                              "folder, got '../a-safe-place.mp3'"),
    ({"slug": "a safe place"}, "slug 'a safe place' must be ASCII letters, digits and '-'"),
    ({"slug": "three-minute-reset"}, "slug 'three-minute-reset' is also used by"),
    ({"manifest_version": 2}, "manifest_version 2 is not supported (expected 1)"),
    ({"audio__duration_s": 0}, "audio.duration_s must be positive, got 0.0"),
    ({"episode": 0}, "'episode' must be a positive integer, got 0"),
    ({"explicit": "no"}, "'explicit' has the wrong type: 'no'"),
    ({"title": None}, "missing 'title'"),
])
def test_broken_manifests_are_refused_naming_the_file(library, tmp_path, changes, message):
    rendered, podcast = library
    _edit(rendered / "a-safe-place.manifest.json", **changes)
    error = _manifest_error(rendered, podcast, tmp_path)
    assert message in error and "a-safe-place.manifest.json" in error


def test_audio_that_is_not_mp3_and_bad_json_are_reported_together(library, tmp_path: Path):
    rendered, podcast = library
    (rendered / "a-safe-place.mp3").write_bytes(b"RIFF....WAVEfmt " + bytes(100))
    _edit(rendered / "a-safe-place.manifest.json", audio__bytes=116)
    (rendered / "three-minute-reset.manifest.json").write_text('{"slug": ', encoding="utf-8")
    error = _manifest_error(rendered, podcast, tmp_path).splitlines()
    assert error[0].endswith("a-safe-place.manifest.json: a-safe-place.mp3 is not an MP3 file")
    assert error[1].endswith("three-minute-reset.manifest.json:1:10: invalid JSON: Expecting "
                             "value")


def test_no_rendered_sessions(tmp_path: Path, library):
    _, podcast = library
    (tmp_path / "empty").mkdir()
    with pytest.raises(PublishError, match="no rendered sessions in .*run `innerchild render`"):
        publish_site(tmp_path / "empty", tmp_path / "site", channel_file=podcast, base_url=BASE)


def test_an_episode_cover_that_fails_apples_checks_is_left_out_with_a_warning(
        tmp_path: Path, sine: Path):
    from PIL import Image

    small = tmp_path / "small.jpg"
    Image.new("RGB", (600, 600), (10, 20, 30)).save(small)
    rendered, podcast = build_library(tmp_path, sine)
    write_session(rendered, "with-art", sine, title="With art", cover=small)
    result = publish_site(rendered, tmp_path / "site", channel_file=podcast, base_url=BASE)
    assert result.warnings == (
        "with-art: episode cover left out of the feed: cover must be 1400 to 3000 px on a "
        "side, with-art.cover.jpg is 600x600 px",
    )
    assert "with-art.cover" not in result.feed_path.read_text(encoding="utf-8")


def test_publish_command(library, tmp_path: Path):
    rendered, podcast = library
    site = tmp_path / "public"
    args = ["publish", "--rendered", str(rendered), "--podcast", str(podcast), "-o", str(site)]
    result = CliRunner().invoke(main, [*args, "--base-url", BASE])
    assert result.exit_code == 0, result.output
    assert result.output == (f"Published 3 episodes (3 new) to {site}\n"
                             f"Feed: {BASE}/feed.xml\n")
    again = CliRunner().invoke(main, [*args, "--base-url", BASE])
    assert "Published 3 episodes (0 new)" in again.output
    assert (tmp_path / "public.state.json").is_file()


def test_publish_command_exit_codes(library, tmp_path: Path):
    rendered, podcast = library
    args = ["publish", "--rendered", str(rendered), "-o", str(tmp_path / "site")]
    no_url = CliRunner().invoke(main, [*args, "--podcast", str(podcast)])
    assert no_url.exit_code == 2 and "no base URL" in no_url.output
    bad_url = CliRunner().invoke(main, [*args, "--podcast", str(podcast), "--base-url", "x"])
    assert bad_url.exit_code == 2 and "--base-url: base URL must start with" in bad_url.output
    podcast.write_text(podcast.read_text(encoding="utf-8") + "link: example.com\n",
                       encoding="utf-8")
    bad_yaml = CliRunner().invoke(main, [*args, "--podcast", str(podcast), "--base-url", BASE])
    assert bad_yaml.exit_code == 2
    assert f"{podcast}:18:7: link must be an ASCII http(s) URL" in bad_yaml.output
    missing = CliRunner().invoke(main, [*args, "--podcast", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "none.yaml does not exist" in missing.output
    podcast.write_text(podcast.read_text(encoding="utf-8").replace("link: example.com\n", ""),
                       encoding="utf-8")
    (rendered / "a-safe-place.mp3").unlink()
    broken = CliRunner().invoke(main, [*args, "--podcast", str(podcast), "--base-url", BASE])
    assert broken.exit_code == 1 and "a-safe-place.mp3, which does not exist" in broken.output


def _style(element: dict) -> dict[str, float]:
    return {k.strip(): float(v.strip().rstrip("%"))
            for k, v in (part.split(":") for part in element["attrs"]["style"].split(";"))}


def test_each_episode_shows_its_shape_under_the_player(tmp_path: Path, sine: Path):
    rendered = tmp_path / "output"
    write_session(rendered, "shaped", sine, title="Shaped", duration_s=2.0,
                  chapters=[(0.0, "Arriving"), (0.5, "Middle & <core>"), (1.5, "Returning")])
    # Three sentences: two a short pause apart (drawn as one span), one after a long pause.
    (rendered / "shaped.vtt").write_text(
        "WEBVTT\n\n00:00:00.100 --> 00:00:00.300\nOne.\n\n"
        "00:00:00.400 --> 00:00:00.600\nTwo.\n\n"
        "00:00:01.800 --> 00:00:01.900\nThree.\n", encoding="utf-8")
    assert [(s.start_s, s.end_s) for s in speech_spans(rendered / "shaped.vtt")] == [
        (0.1, 0.3), (0.4, 0.6), (1.8, 1.9)]
    result = publish_site(rendered, tmp_path / "site", channel_file=write_podcast_yaml(tmp_path),
                          base_url=BASE, now=NOW)
    raw = result.index_path.read_text(encoding="utf-8")
    page = Page(raw)
    assert page.errors == []
    [strip] = page.find("div", class_="strip")
    assert strip["attrs"]["role"] == "img"
    assert strip["attrs"]["aria-label"] == (
        "Shape of the session: 3 chapters over 2 s; the voice speaks for 25% of it, "
        "the rest is quiet and sound")
    chapters = page.find("span", class_="chapter")
    assert [(c["text"], c["attrs"]["data-start"], _style(c)) for c in chapters] == [
        ("1", "0", {"left": 0, "width": 25}),
        ("2", "0.5", {"left": 25, "width": 50}),
        ("3", "1.5", {"left": 75, "width": 25}),
    ]
    assert chapters[1]["attrs"]["title"] == "2. Middle & <core> (0:00)"
    assert [_style(v) for v in page.find("span", class_="voice")] == [
        {"left": 5, "width": 25}, {"left": 90, "width": 5}]
    # The list below the strip: the same numbers, each a link that seeks (or opens the MP3).
    links = [a for a in page.find("a") if "data-start" in a["attrs"]]
    assert [a["text"][:1] for a in links] == ["1", "2", "3"]
    assert raw.index('class="strip"') < raw.index('class="chapters"')
    assert raw.index("<audio") < raw.index('class="strip"')


def test_page_shows_people_funding_licence_and_the_care_line(library, tmp_path: Path):
    rendered, podcast = library
    result = publish_site(rendered, tmp_path / "site", channel_file=podcast, base_url=BASE,
                          now=NOW)
    raw = result.index_path.read_text(encoding="utf-8")
    page = Page(raw)
    (sam, sam_role, sam_href, sam_img), (robin, robin_role, _, _) = PEOPLE
    [people] = page.find("ul", class_="people")
    assert people["text"] == f"{sam} ({sam_role}){robin} ({robin_role})"
    assert page.find("a", href=sam_href)[0]["text"] == sam
    assert page.find("img", src=sam_img)[0]["attrs"]["alt"] == ""
    [funding] = page.find("a", id="funding")
    assert (funding["attrs"]["href"], funding["text"]) == FUNDING
    [licence] = page.find("a", href=LICENSE[1])
    assert licence["text"] == LICENSE[0]
    [about] = page.find("div", id="about")
    assert CARE_TEXT in about["text"]
    cares = page.find("p", class_="care")
    assert len(cares) == 3 and all(c["text"].startswith(CARE) for c in cares)
    assert len(page.find("a", href="#about")) == 3  # each care line points to the full text
    assert raw.count(CARE_TEXT) == 2  # the show's notes and meta description; no episode
    assert not page.find("p", class_="order")  # episodic


def test_a_serial_page_lists_episodes_by_number_and_says_so(library, tmp_path: Path, sine: Path):
    rendered, _ = library
    write_session(rendered, "week-three", sine, title="Week Three", episode=3, season=1)
    podcast = write_podcast_yaml(tmp_path / "serial", extra="type: serial\n")
    result = publish_site(rendered, tmp_path / "site", channel_file=podcast, base_url=BASE,
                          now=NOW)
    page = Page(result.index_path.read_text(encoding="utf-8"))
    assert [a["attrs"]["id"] for a in page.find("article")] == [
        "meeting-your-child-self", "a-safe-place", "week-three", "three-minute-reset"]
    assert page.find("p", class_="order")[0]["text"].startswith("A course: take the episodes")
