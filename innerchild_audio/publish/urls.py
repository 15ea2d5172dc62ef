"""The site's base URL, episode URLs and the channel's `podcast:guid`."""

from __future__ import annotations

import re
import uuid
from typing import Final
from urllib.parse import quote, urlsplit, urlunsplit

# Podcasting 2.0: podcast:guid is a UUIDv5 of the feed URL in this namespace.
PODCAST_GUID_NAMESPACE: Final = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
FEED_NAME: Final = "feed.xml"

_SCHEME_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_PATH_SAFE: Final = "/%:@!$&'()*+,;=-._~"


def normalize_base_url(url: str) -> str:
    """An absolute http(s) URL in ASCII without spaces or a trailing slash.

    Non-ASCII host names become IDNA and paths are percent-encoded; anything a
    feed cannot carry raises ValueError saying what to change.
    """
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base URL must start with https:// or http://, got {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"base URL must not have a query or fragment, got {url!r}")
    if parts.username or parts.password:
        raise ValueError("base URL must not contain a user name or password")
    host = parts.hostname or ""
    if not host:
        raise ValueError(f"base URL has no host name: {url!r}")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValueError(f"base URL host {host!r} is not a valid host name") from error
    if " " in ascii_host:
        raise ValueError(f"base URL host {host!r} contains a space")
    try:
        port = parts.port
    except ValueError as error:
        raise ValueError(f"base URL has an invalid port: {url!r}") from error
    if ":" in ascii_host:  # IPv6 literal
        ascii_host = f"[{ascii_host}]"
    netloc = ascii_host if port is None else f"{ascii_host}:{port}"
    path = quote(parts.path, safe=_PATH_SAFE).rstrip("/")
    return urlunsplit((parts.scheme.lower(), netloc, path, "", ""))


def site_url(base_url: str, relative: str) -> str:
    """Absolute URL of a file in the site (`relative` uses forward slashes)."""
    return f"{base_url}/{quote(relative, safe=_PATH_SAFE)}"


def feed_url(base_url: str) -> str:
    return site_url(base_url, FEED_NAME)


def podcast_guid(feed: str) -> str:
    """`podcast:guid`: UUIDv5 of the feed URL without its scheme and trailing slashes."""
    bare = _SCHEME_RE.sub("", feed.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))
