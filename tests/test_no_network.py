"""The suite's network guard holds: nothing leaves this machine during tests."""

from __future__ import annotations

import pytest
import requests

from innerchild_audio.speech.gtts_reachability import google_reachable


def test_outside_hosts_are_refused_at_once():
    with pytest.raises(requests.ConnectionError):
        requests.get("https://translate.google.com/", timeout=5)


def test_auto_engine_check_sees_no_google():
    assert google_reachable("com", timeout_s=5) is False
