"""What a log request asks the server for."""

from pacdeploy.kube.logs import Window


def test_the_window_asks_only_what_was_given():
    assert Window().query("mongo") == {
        "container": "mongo",
        "tailLines": None,
        "sinceSeconds": None,
        "previous": None,
    }
    assert Window(tail=5, since_seconds=600, previous=True).query(None)["previous"] == "true"
