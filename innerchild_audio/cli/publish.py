"""`innerchild publish` and `innerchild serve`: the podcast site and a local server for it."""

from __future__ import annotations

from pathlib import Path

import click

from innerchild_audio.cli.app import main, translate_errors
from innerchild_audio.errors import UsageError
from innerchild_audio.publish import publish_site
from innerchild_audio.serve import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    LAN_HOST,
    SiteServer,
    lan_address,
    serve,
    site_url,
    terminal_qr,
)

DEFAULT_RENDERED = Path("output")
DEFAULT_SITE = Path("output/site")
DEFAULT_PODCAST = Path("meditations/podcast.yaml")


@main.command("publish")
@click.option("--base-url", metavar="URL",
              help="Where the site will be hosted, e.g. https://example.com/podcast "
                   "(default: base_url in podcast.yaml).")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_SITE, show_default=True, help="Folder to write the site to.")
@click.option("--rendered", "rendered_dir", default=DEFAULT_RENDERED, show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder holding the rendered sessions (*.manifest.json).")
@click.option("--podcast", "channel_file", default=DEFAULT_PODCAST, show_default=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Channel metadata: title, description, author, category, ...")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path),
              help="State file keeping GUIDs and first publication dates "
                   "(default: beside the site, <DIR>.state.json).")
@translate_errors
def publish_command(
    base_url: str | None, out_dir: Path, rendered_dir: Path, channel_file: Path,
    state_file: Path | None,
) -> None:
    """Build the podcast site: feed.xml, episodes, transcripts, chapters, cover, index.html.

    \b
    Examples:
      innerchild publish --base-url https://example.org/calm
      innerchild publish -o public --rendered output --podcast meditations/podcast.yaml
    """
    result = publish_site(rendered_dir, out_dir, channel_file=channel_file, base_url=base_url,
                          state_file=state_file)
    # Warnings (e.g. an episode cover left out) are logged by the library.
    count = len(result.episodes)
    click.echo(f"Published {count} episode{'' if count == 1 else 's'} "
               f"({len(result.new_slugs)} new) to {result.out_dir}")
    click.echo(f"Feed: {result.feed_url}")


@main.command("serve")
@click.argument("directory", required=False, default=DEFAULT_SITE,
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to listen on (0 picks a free one).")
@click.option("--host", default=None, help=f"Address to listen on (default {DEFAULT_HOST}).")
@click.option("--lan", is_flag=True,
              help="Listen on all interfaces and show the feed's LAN address as a QR code.")
@click.option("--published-urls", is_flag=True,
              help="Serve feed.xml as published, instead of pointing its links at this server.")
@translate_errors
def serve_command(
    directory: Path, port: int, host: str | None, lan: bool, published_urls: bool
) -> None:
    """Serve the site over HTTP with HEAD and byte ranges, as phones need.

    \b
    Examples:
      innerchild serve
      innerchild serve output/site --lan --port 8000
    """
    if lan and host is not None:
        raise UsageError("--lan and --host cannot be used together")
    bind = LAN_HOST if lan else (host or DEFAULT_HOST)

    def ready(server: SiteServer) -> None:
        shown = lan_address() if lan else bind
        url = site_url(shown, server.port)
        click.echo(f"Serving {directory} at {url}")
        click.echo(f"Feed: {url}feed.xml")
        if lan:
            click.echo("Scan with your phone (same Wi-Fi) and add the feed in a podcast app:")
            click.echo(terminal_qr(f"{url}feed.xml"))
        click.echo("Press Ctrl-C to stop.")

    serve(directory, bind, port, rewrite_feed=not published_urls, on_ready=ready)
