"""index.html: the podcast's page, built for a phone; every piece of text is escaped.

Each episode shows its shape under the player: chapters as a strip with the voice's spans
beneath. Without JavaScript the page reads in full and chapter links open the MP3 at their
time (a media fragment); with it, chapters seek the player and a playhead follows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Final
from urllib.parse import quote

from innerchild_audio.publish.channel import Channel
from innerchild_audio.publish.cover import CoverInfo
from innerchild_audio.publish.published import (
    PublishedEpisode,
    clean_text,
    notes_html,
    plain_paragraphs,
)
from innerchild_audio.publish.shape import Shape, episode_shape
from innerchild_audio.publish.urls import FEED_NAME

_MONTHS: Final = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)

_STYLE: Final = """
:root { color-scheme: light dark; --bg: #f8f4ef; --fg: #2a2833; --muted: #68626f;
  --card: #ffffff; --line: #e7e0d8; --accent: #7b4a8c; --accent-fg: #ffffff;
  --warn-bg: #fff3df; --warn-line: #d9973c; --seg-a: #efe8f3; --seg-b: #e0d3e8; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #18171d; --fg: #ece8f1; --muted: #a79fb1; --card: #24222b; --line: #3a3642;
    --accent: #c89bd8; --accent-fg: #18171d; --warn-bg: #3a2e1d; --warn-line: #d9973c;
    --seg-a: #322e3a; --seg-b: #403a4a; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 17px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  -webkit-text-size-adjust: 100%; }
.wrap { max-width: 42rem; margin: 0 auto; padding: 1rem 1rem 3rem; }
a { color: var(--accent); }
.show-head { display: flex; gap: 1rem; align-items: center; }
.show-head img { width: 7.5rem; height: 7.5rem; border-radius: 14px; flex: none;
  object-fit: cover; }
h1 { font-size: 1.45rem; line-height: 1.25; margin: 0 0 .25rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; line-height: 1.3; margin: 0 0 .25rem; overflow-wrap: anywhere; }
.by, .meta { color: var(--muted); margin: 0; font-size: .92rem; }
.notes p { margin: .6rem 0; overflow-wrap: anywhere; }
.subscribe { margin: 1rem 0 .4rem; }
.button { display: inline-block; min-height: 44px; padding: .65rem 1.2rem; border-radius: 999px;
  background: var(--accent); color: var(--accent-fg); font-weight: 600; text-decoration: none; }
.feed { font-size: .9rem; color: var(--muted); margin: 0; }
.feed code { display: block; overflow-wrap: anywhere; color: var(--fg); margin-top: .2rem; }
.episode { background: var(--card); border: 1px solid var(--line); border-radius: 16px;
  padding: 1rem; margin: 1.2rem 0; }
.warning { background: var(--warn-bg); border-left: 4px solid var(--warn-line);
  border-radius: 8px; padding: .55rem .8rem; margin: .8rem 0; font-size: .95rem; }
audio { display: block; width: 100%; margin: .8rem 0; }
.shape { margin: .2rem 0 .6rem; }
.strip { position: relative; height: 2.6rem; border-radius: 8px; overflow: hidden;
  background: var(--seg-a); }
.js .strip { cursor: pointer; }
.strip .chapter { position: absolute; top: 0; bottom: .7rem; display: flex;
  align-items: center; padding-left: .35rem; font-size: .8rem; font-weight: 600;
  color: var(--fg); border-left: 2px solid var(--card); overflow: hidden; white-space: nowrap;
  background: var(--seg-a); }
.strip .chapter:nth-child(even) { background: var(--seg-b); }
.strip .chapter:first-child { border-left: 0; }
.strip .voice { position: absolute; bottom: 0; height: .7rem; background: var(--accent); }
.strip .playhead { position: absolute; top: 0; bottom: 0; width: 2px; background: var(--fg);
  left: 0; display: none; }
.js .strip .playhead { display: block; }
.shape figcaption { color: var(--muted); font-size: .85rem; margin-top: .3rem; }
.key { display: inline-block; width: .8rem; height: .5rem; border-radius: 2px;
  background: var(--accent); vertical-align: middle; margin-right: .25rem; }
.care { color: var(--muted); font-size: .92rem; }
.people { list-style: none; margin: .8rem 0 0; padding: 0; display: flex; flex-wrap: wrap;
  gap: .4rem 1rem; font-size: .95rem; }
.people img { width: 2rem; height: 2rem; border-radius: 50%; vertical-align: middle;
  margin-right: .35rem; object-fit: cover; }
.people .role { color: var(--muted); }
.order { font-size: .95rem; }
.button.quiet { background: transparent; color: var(--accent); border: 2px solid var(--accent);
  margin-left: .4rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
.chapters .n { color: var(--muted); min-width: 1.2rem; font-variant-numeric: tabular-nums; }
a:focus-visible, summary:focus-visible, audio:focus-visible { outline: 3px solid var(--accent);
  outline-offset: 2px; }
.chapters summary { cursor: pointer; font-weight: 600; min-height: 44px; padding: .6rem 0; }
.chapters ol { list-style: none; margin: 0; padding: 0; }
.chapters a { display: flex; gap: .8rem; align-items: center; min-height: 44px;
  padding: .35rem 0; border-top: 1px solid var(--line); color: inherit; text-decoration: none; }
.chapters .at { color: var(--accent); font-variant-numeric: tabular-nums; min-width: 3.2rem; }
.links { margin: .6rem 0 0; font-size: .95rem; }
.links a { display: inline-block; padding: .4rem .2rem; margin-right: .6rem; }
footer { color: var(--muted); font-size: .85rem; text-align: center; margin-top: 2rem; }
"""

_SCRIPT: Final = """
document.documentElement.classList.add("js");  /* the strip seeks and shows a playhead */
document.addEventListener("click", function (event) {
  var mark = event.target.closest("[data-start]");
  var audio = mark && mark.closest("article").querySelector("audio");
  if (!audio) return;
  event.preventDefault();
  audio.currentTime = parseFloat(mark.getAttribute("data-start"));
  audio.play().catch(function () {});
});
document.addEventListener("timeupdate", function (event) {
  var audio = event.target, head = audio.closest("article").querySelector(".playhead");
  if (head && audio.duration > 0) {
    head.style.left = (100 * audio.currentTime / audio.duration) + "%";
  }
}, true);
document.addEventListener("play", function (event) {
  document.querySelectorAll("audio").forEach(function (other) {
    if (other !== event.target) other.pause();
  });
}, true);
if (location.protocol === "https:" || location.protocol === "http:") {
  var shown = document.getElementById("feed-url");
  if (shown) shown.textContent = new URL("feed.xml", location.href).href;
}
"""


def _e(text: str) -> str:
    return escape(clean_text(text), quote=True)


def _href(path: str) -> str:
    return escape(quote(path, safe="/-._~"), quote=True)


def _clock(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _length(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _pct(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


def _start(seconds: float) -> str:
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def _shape(item: PublishedEpisode, shape: Shape) -> str:
    """The strip: chapters numbered as in the list below, the voice's spans along its foot."""
    if not shape.chapters and not shape.speech:
        return ""
    speech_share = round(100 * shape.speech_s / shape.duration_s)
    count = len(shape.chapters)
    summary = (f"{count} chapter{'' if count == 1 else 's'} over "
               f"{_length(item.duration_whole_s)}; the voice speaks for {speech_share}% of it, "
               "the rest is quiet and sound")
    out = ['<figure class="shape">',
           f'<div class="strip" role="img" aria-label="Shape of the session: {_e(summary)}">']
    for number, chapter in enumerate(shape.chapters, 1):
        left, width = shape.percent(chapter.start_s), shape.percent(chapter.length_s)
        out.append(f'<span class="chapter" style="left:{_pct(left)};width:{_pct(width)}" '
                   f'data-start="{_start(chapter.start_s)}" '
                   f'title="{number}. {_e(chapter.title)} ({_clock(chapter.start_s)})">'
                   f"{number}</span>")
    for span in shape.speech:
        left, width = shape.percent(span.start_s), shape.percent(span.length_s)
        out.append(f'<span class="voice" style="left:{_pct(left)};width:{_pct(width)}"></span>')
    out.append('<span class="playhead"></span></div>')
    out.append(f'<figcaption><span class="key"></span>Voice: {speech_share}% of '
               f"{_length(item.duration_whole_s)}"
               + (f" · {count} chapter{'' if count == 1 else 's'}, numbered as below"
                  if count else "")
               + "</figcaption></figure>")
    return "\n".join(out)


def _date(moment: datetime) -> str:
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _episode(item: PublishedEpisode) -> str:
    ep = item.episode
    meta = [f'<time datetime="{item.pub_date.date().isoformat()}">{_date(item.pub_date)}</time>',
            _length(item.duration_whole_s)]
    numbers = [f"Season {ep.season}" if ep.season is not None else "",
               f"Episode {ep.episode}" if ep.episode is not None else ""]
    if any(numbers):
        meta.append(", ".join(n for n in numbers if n))
    out = [f'<article class="episode" id="{_e(ep.slug)}">',
           f"<h2>{_e(ep.title)}</h2>",
           f'<p class="meta">{" · ".join(meta)}</p>']
    if ep.content_warning:
        out.append(f'<p class="warning" role="note"><strong>Content warning:</strong> '
                   f"{_e(ep.content_warning)}</p>")
    out.append(f'<audio controls preload="metadata" src="{_href(item.audio)}" '
               f'aria-label="Play {_e(ep.title)}">'
               f'<a href="{_href(item.audio)}">Listen (MP3)</a></audio>')
    shape = episode_shape(ep)
    out.append(_shape(item, shape))
    if item.notes:
        out.append(f'<div class="notes">{notes_html(*item.notes)}</div>')
    if item.care_note:
        out.append(f'<p class="care">{_e(item.care_note)} '
                   '<a href="#about">More on care and where to find help</a></p>')
    if shape.chapters:
        out.append('<details class="chapters" open><summary>Chapters'
                   f'<span class="visually-hidden"> of {_e(ep.title)}</span></summary><ol>')
        for number, chapter in enumerate(shape.chapters, 1):
            start = _start(chapter.start_s)
            out.append(f'<li><a href="{_href(item.audio)}#t={start}" data-start="{start}">'
                       f'<span class="n">{number}</span>'
                       f'<span class="at">{_clock(chapter.start_s)}</span>'
                       f"<span>{_e(chapter.title)}</span></a></li>")
        out.append("</ol></details>")
    links = []
    if item.vtt:
        links.append(f'<a class="transcript" href="{_href(item.vtt)}">Transcript</a>')
    if item.srt:
        links.append(f'<a href="{_href(item.srt)}">Subtitles (SRT)</a>')
    links.append(f'<a href="{_href(item.audio)}" download>Download MP3</a>')
    out.append(f'<p class="links">{"".join(links)}</p>')
    out.append("</article>")
    return "\n".join(out)


def _people(channel: Channel) -> str:
    if not channel.people:
        return ""
    items = []
    for person in channel.people:
        face = f'<img src="{_e(person.img)}" alt="" width="64" height="64">' if person.img else ""
        name = (f'<a href="{_e(person.href)}">{_e(person.name)}</a>' if person.href
                else _e(person.name))
        items.append(f'<li>{face}{name} <span class="role">({_e(person.role)})</span></li>')
    return f'<ul class="people" aria-label="People">{"".join(items)}</ul>'


def _license(channel: Channel) -> str:
    if channel.license is None:
        return ""
    name = _e(channel.license.name)
    shown = (f'<a href="{_e(channel.license.url)}">{name}</a>' if channel.license.url
             else name)
    return f" · Licence: {shown}"


def build_index(
    channel: Channel,
    episodes: Sequence[PublishedEpisode],
    *,
    feed_url: str,
    cover: str,
    cover_info: CoverInfo | None,
) -> str:
    """The whole page; `episodes` newest first, paths relative to the site's root."""
    size = cover_info.width_px if cover_info else 1400
    order = ('<p class="order">A course: take the episodes in order, from the first.</p>\n'
             if channel.serial else "")
    funding = (f' <a class="button quiet" id="funding" href="{_e(channel.funding.url)}">'
               f"{_e(channel.funding.text)}</a>" if channel.funding else "")
    head = f"""<!doctype html>
<html lang="{_e(channel.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(channel.title)}</title>
<meta name="description" content="{_e(plain_paragraphs(channel.description))}">
<link rel="alternate" type="application/rss+xml" title="{_e(channel.title)}" href="{FEED_NAME}">
<style>{_STYLE}</style>
</head>
<body>
<div class="wrap">
<header>
<div class="show-head">
<img src="{_href(cover)}" width="{size}" height="{size}" alt="Cover art: {_e(channel.title)}">
<div><h1>{_e(channel.title)}</h1><p class="by">{_e(channel.author)}</p></div>
</div>
{_people(channel)}
<div class="notes" id="about">{notes_html(channel.description)}</div>
{order}<p class="subscribe">
<a class="button" id="subscribe" href="{FEED_NAME}">Subscribe</a>{funding}</p>
<p class="feed">Or add this address in your podcast app:
<code id="feed-url">{_e(feed_url)}</code></p>
</header>
<main>
"""
    body = "\n".join(_episode(item) for item in episodes)
    count = len(episodes)
    tail = f"""
</main>
<footer>{count} episode{"" if count == 1 else "s"} · <a href="{FEED_NAME}">RSS feed</a>
{_license(channel)}</footer>
</div>
<script>{_SCRIPT}</script>
</body>
</html>
"""
    return head + body + tail
