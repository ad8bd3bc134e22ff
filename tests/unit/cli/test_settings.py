"""The global options' types: durations read as kubectl reads them."""

import pytest

from pacdeploy.cli.settings import Duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("1m30s", 90), ("1.5m", 90), ("1h", 3600), ("45", 45)],
)
def test_durations_like_kubectl(text, seconds):
    assert Duration().convert(text, None, None) == seconds
