"""podcast.yaml: both category shapes, precise errors, cover art checks and the default cover."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from PIL import Image
from publish_helpers import build_library, sine_mp3

from innerchild_audio.errors import ScriptError
from innerchild_audio.publish import (
    Funding,
    License,
    Person,
    channel_warnings,
    cover_problems,
    load_channel,
    publish_site,
)

REPO = Path(__file__).resolve().parent.parent
VALID = """\
title: Inner Child Sessions
description: Gentle sessions.
author: Inner Child Audio
category: Health & Fitness
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "podcast.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(ScriptError) as caught:
        load_channel(_write(tmp_path, text))
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def _image(path: Path, size: tuple[int, int], mode: str = "RGB", fmt: str | None = None) -> Path:
    colour = {"RGB": (200, 120, 90), "RGBA": (200, 120, 90, 128), "CMYK": (0, 50, 80, 0),
              "L": 128, "P": 3}[mode]
    Image.new(mode, size, colour).save(path, format=fmt)
    return path


@pytest.mark.parametrize("shape", [
    "category: Health & Fitness\nsubcategory: Mental Health\n",
    "category: [Health & Fitness, Mental Health]\n",
    "category:\n  - Health & Fitness\n  - Mental Health\n",
])
def test_both_category_shapes_mean_the_same(tmp_path: Path, shape: str):
    text = VALID.replace("category: Health & Fitness\n", shape)
    channel = load_channel(_write(tmp_path, text))
    assert (channel.category, channel.subcategory) == ("Health & Fitness", "Mental Health")


def test_defaults(tmp_path: Path):
    channel = load_channel(_write(tmp_path, VALID))
    assert channel.language == "en" and channel.explicit is False
    assert channel.cover is None and channel.base_url is None and channel.subcategory is None


def test_every_key_is_read(tmp_path: Path):
    _image(tmp_path / "art.png", (1400, 1400), fmt="PNG")
    channel = load_channel(_write(tmp_path, VALID + (
        "language: en-GB\nexplicit: true\ncover: art.png\nowner_email: me@example.com\n"
        "base_url: https://example.com/pod/\nlink: https://example.com/\n"
    )))
    assert channel.language == "en-GB" and channel.explicit is True
    assert channel.cover is not None and channel.cover.format == "PNG"
    assert channel.cover.path == (tmp_path / "art.png").absolute()
    assert channel.owner_email == "me@example.com"
    assert channel.base_url == "https://example.com/pod"
    assert channel.link == "https://example.com/"


def test_people_license_funding_type_and_care_note(tmp_path: Path):
    channel = load_channel(_write(tmp_path, VALID + (
        "people:\n"
        "  - {name: Sam Lee, role: Host, href: 'https://example.org/sam',\n"
        "     img: 'https://example.org/sam.jpg'}\n"
        "  - name: Robin\n"
        "license: cc-by-4.0\n"
        "funding: {url: 'https://example.org/give', text: Support the show}\n"
        "type: serial\n"
        "care_note: |\n  Self-care, not therapy.\n  In crisis? Call 988 (US).\n"
    )))
    assert channel.people == (
        Person("Sam Lee", "host", "https://example.org/sam", "https://example.org/sam.jpg"),
        Person("Robin", "host"),
    )
    assert channel.license == License("cc-by-4.0")
    assert channel.funding == Funding("https://example.org/give", "Support the show")
    assert channel.serial and channel.show_type == "serial"
    assert channel.care_note == "Self-care, not therapy. In crisis? Call 988 (US)."
    with_url = load_channel(_write(tmp_path, VALID + (
        "license: {name: All rights reserved, url: 'https://example.org/terms'}\n")))
    assert with_url.license == License("All rights reserved", "https://example.org/terms")
    assert not with_url.serial and with_url.people == () and with_url.funding is None


def test_renders_keys_are_read_too(tmp_path: Path):
    channel = load_channel(_write(tmp_path, VALID + (
        "offline_voice: piper:joe\npronounce: {Samaritans: Sa-MAR-i-tans}\n")))
    assert channel.offline_voice == "piper:joe"
    assert channel.pronounce == {"Samaritans": "Sa-MAR-i-tans"}
    assert load_channel(_write(tmp_path, VALID)).pronounce == {}


def test_a_missing_recommended_key_is_named_once(tmp_path: Path):
    path = _write(tmp_path, VALID)
    warnings = channel_warnings(load_channel(path))
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{path}: no owner_email: the feed's itunes:owner has no "
                                  "itunes:email")
    assert warnings[0].endswith("set owner_email in podcast.yaml")
    assert channel_warnings(load_channel(_write(tmp_path, VALID + "owner_email: a@b.org\n"))) \
        == []


@pytest.mark.parametrize(("text", "expected"), [
    (VALID + "type: course\n", (5, 7, "type must be episodic or serial, got 'course'")),
    (VALID + "type: Serial\n",
     (5, 7, "type must be episodic or serial, got 'Serial'; did you mean 'serial'?")),
    (VALID + "people: Sam\n",
     (5, 9, "people must be a list such as [{name: Sam Lee, role: host}]")),
    (VALID + "people: [{role: host}]\n", (5, 10, "people[0] needs a name")),
    (VALID + "people: [{name: Sam, imgg: x}]\n",
     (5, 22, "unknown key 'imgg' in people[0]; did you mean 'img'?")),
    (VALID + "people: [{name: Sam, href: example.org}]\n",
     (5, 28, "people[0].href must be an ASCII http(s) URL, got 'example.org'")),
    (VALID + "license: {url: 'https://example.org'}\n",
     (5, 10, "license needs a name, e.g. {name: cc-by-4.0}")),
    (VALID + "funding: {url: 'https://example.org'}\n",
     (5, 10, "funding needs url and text, e.g. {url: https://..., text: Support the show}")),
    (VALID + "funding: {url: 'https://example.org', text: " + "x" * 129 + "}\n",
     (5, 45, "funding.text has 129 characters; at most 128")),
    (VALID + "care_note: 12\n", (5, 12, "care_note must be text, got int (put it in quotes)")),
    (VALID + "offline_voice: joe\n",
     (5, 16, "offline_voice must be engine:voice, e.g. piper:joe, got 'joe'")),
    (VALID + "pronounce: {Samaritans: 3}\n",
     (5, 25, "pronounce: 'Samaritans' needs text to speak")),
    (VALID + "pronounce: [a]\n", (5, 12, "pronounce must be a mapping of a word to how it is "
                                         "spoken, e.g. {Samaritans: Sama-ritans}")),
])
def test_new_keys_problems_name_line_column_and_fix(tmp_path: Path, text: str, expected):
    assert expected in _problems(tmp_path, text)


@pytest.mark.parametrize(("text", "expected"), [
    (VALID + "titel: x\n", (5, 1, "unknown key 'titel'; did you mean 'title'?")),
    (VALID.replace("Health & Fitness", "Health & Fitnes"),
     (4, 11, "unknown Apple Podcasts category 'Health & Fitnes'; did you mean "
             "'Health & Fitness'?")),
    (VALID.replace("Health & Fitness", "health & fitness"),
     (4, 11, "unknown Apple Podcasts category 'health & fitness'; did you mean "
             "'Health & Fitness'?")),
    (VALID.replace("Health & Fitness", "Mental Health"),
     (4, 11, "'Mental Health' is a subcategory of 'Health & Fitness'; write "
             "category: [Health & Fitness, Mental Health]")),
    (VALID + "subcategory: Buddhism\n",
     (5, 14, "'Buddhism' is not a subcategory of 'Health & Fitness' (its subcategories: "
             "Alternative Health, Fitness, Medicine, Mental Health, Nutrition, Sexuality)")),
    (VALID.replace("category: Health & Fitness", "category: [Health & Fitness, Menta Health]"),
     (4, 30, "'Menta Health' is not a subcategory of 'Health & Fitness'; did you mean "
             "'Mental Health'? (its subcategories: Alternative Health, Fitness, Medicine, "
             "Mental Health, Nutrition, Sexuality)")),
    (VALID + "explicit: maybe\n", (5, 11, "explicit must be true or false, got 'maybe'")),
    (VALID.replace("title: Inner Child Sessions", "title: 2024"),
     (1, 8, "title must be text, got int (put it in quotes)")),
    (VALID.replace("title: Inner Child Sessions", "title: '  '"),
     (1, 8, "title must not be empty")),
    (VALID + "title: again\n", (5, 1, "duplicate key 'title'")),
    (VALID + "language: english please\n",
     (5, 11, "language must be a BCP 47 tag such as en or en-GB, got 'english please'")),
    (VALID + "owner_email: nobody\n",
     (5, 14, "owner_email is not an e-mail address: 'nobody'")),
    (VALID + "base_url: ftp://example.com\n",
     (5, 11, "base URL must start with https:// or http://, got 'ftp://example.com'")),
    (VALID + "base_url: https://example.com/?x=1\n",
     (5, 11, "base URL must not have a query or fragment, got 'https://example.com/?x=1'")),
    (VALID + "link: example.com\n",
     (5, 7, "link must be an ASCII http(s) URL, got 'example.com'")),
    (VALID + "author2: !!python/object/apply:os.system [ls]\n",
     (5, 1, "unknown key 'author2'; did you mean 'author'?")),
    (VALID.replace("author: Inner Child Audio", "author: !!python/object/apply:os.system [ls]"),
     (3, 9, "could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system' (only plain YAML values)")),
    ("title: [unclosed\n",
     (2, 1, "invalid YAML: while parsing a flow sequence expected ',' or ']', but got "
            "'<stream end>'")),
    ("- a list\n", (1, 1, "expected a mapping of keys such as `title: ...`")),
    ("", (1, 1, "the file is empty; it needs title, description, author, category")),
])
def test_problems_name_line_column_and_fix(tmp_path: Path, text: str, expected):
    assert expected in _problems(tmp_path, text)


def test_missing_keys_are_all_reported_at_once(tmp_path: Path):
    problems = _problems(tmp_path, "title: Only a title\nexplicit: nope\n")
    assert problems == [
        (1, 1, "missing required key 'description'"),
        (1, 1, "missing required key 'author'"),
        (1, 1, "missing required key 'category'"),
        (2, 11, "explicit must be true or false, got 'nope'"),
    ]


def test_error_text_shows_file_line_column_and_the_line(tmp_path: Path):
    path = _write(tmp_path, VALID + "explicit: maybe\n")
    with pytest.raises(ScriptError) as caught:
        load_channel(path)
    assert str(caught.value) == (
        f"{path}:5:11: explicit must be true or false, got 'maybe'\n"
        "    explicit: maybe\n"
        "              ^"
    )


def test_description_over_apples_limit(tmp_path: Path):
    text = VALID.replace("description: Gentle sessions.", "description: " + "a" * 4001)
    assert (2, 14, "description has 4001 characters; Apple allows 4000") in _problems(
        tmp_path, text)


@pytest.mark.parametrize(("name", "size", "mode", "fmt", "message"), [
    ("wide.jpg", (1600, 1400), "RGB", "JPEG", "cover must be square, wide.jpg is 1600x1400 px"),
    ("small.jpg", (1000, 1000), "RGB", "JPEG",
     "cover must be 1400 to 3000 px on a side, small.jpg is 1000x1000 px"),
    ("huge.png", (3200, 3200), "RGB", "PNG",
     "cover must be 1400 to 3000 px on a side, huge.png is 3200x3200 px"),
    ("alpha.png", (1400, 1400), "RGBA", "PNG",
     "cover must be RGB without transparency, alpha.png is in mode RGBA; save it as an RGB "
     "JPEG or PNG"),
    ("print.jpg", (1400, 1400), "CMYK", "JPEG",
     "cover must be RGB without transparency, print.jpg is in mode CMYK; save it as an RGB "
     "JPEG or PNG"),
    ("anim.gif", (1400, 1400), "P", "GIF", "cover must be JPEG or PNG, anim.gif is GIF"),
])
def test_cover_checks(tmp_path: Path, name, size, mode, fmt, message):
    _image(tmp_path / name, size, mode, fmt)
    assert (6, 8, message) in _problems(tmp_path, VALID + "\n" + f"cover: {name}\n")


def test_cover_that_is_missing_or_truncated(tmp_path: Path):
    good = _image(tmp_path / "good.png", (1400, 1400), fmt="PNG")
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:200])
    [(line, column, message)] = _problems(tmp_path, VALID + "cover: cut.png\n")
    assert (line, column) == (5, 8) and "is not a readable image" in message
    [(_, _, message)] = _problems(tmp_path, VALID + "cover: gone.png\n")
    assert message == f"cover file {(tmp_path / 'gone.png').absolute()} does not exist"


@pytest.mark.parametrize("side", [1400, 3000])
def test_cover_sizes_at_the_limits_pass(tmp_path: Path, side: int):
    info, problems = cover_problems(_image(tmp_path / "c.jpg", (side, side), fmt="JPEG"))
    assert problems == [] and info is not None and info.width_px == side


@pytest.fixture(scope="module")
def sine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sine_mp3(tmp_path_factory.mktemp("audio") / "sine.mp3")


def test_generated_cover_passes_apples_checks(tmp_path: Path, sine: Path):
    rendered, podcast = build_library(tmp_path, sine)
    result = publish_site(rendered, tmp_path / "site", channel_file=podcast,
                          base_url="https://example.com")
    cover = result.out_dir / "cover.jpg"
    info, problems = cover_problems(cover)
    assert problems == [] and info is not None
    assert (info.format, info.width_px, info.height_px) == ("JPEG", 1400, 1400)
    with Image.open(cover) as image:  # not a flat colour: there is art on it
        low, high = image.convert("L").getextrema()
    assert high - low > 100


def test_given_cover_is_copied_and_replaces_the_generated_one(tmp_path: Path, sine: Path):
    rendered, podcast = build_library(tmp_path, sine)
    site = tmp_path / "site"
    publish_site(rendered, site, channel_file=podcast, base_url="https://example.com")
    assert (site / "cover.jpg").is_file()
    art = _image(podcast.parent / "art.png", (2000, 2000), fmt="PNG")
    with podcast.open("a", encoding="utf-8") as handle:
        handle.write("cover: art.png\n")
    result = publish_site(rendered, site, channel_file=podcast, base_url="https://example.com")
    assert (site / "cover.png").read_bytes() == art.read_bytes()
    assert not (site / "cover.jpg").exists()
    assert 'itunes:image href="https://example.com/cover.png"' in result.feed_path.read_text(
        encoding="utf-8")


@pytest.mark.skipif(not (REPO / "meditations/podcast.yaml").is_file(),
                    reason="the library has no meditations/podcast.yaml yet")
def test_the_librarys_own_podcast_yaml_publishes(tmp_path: Path, sine: Path):
    podcast = REPO / "meditations/podcast.yaml"
    channel = load_channel(podcast)
    assert channel.title and channel.category
    rendered, _ = build_library(tmp_path, sine)
    result = publish_site(rendered, tmp_path / "site", channel_file=podcast,
                          base_url="https://example.com/inner-child")
    assert len(result.episodes) == 3 and result.feed_path.is_file()
