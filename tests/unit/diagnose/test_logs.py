"""`logs`: every container as a source, lines prefixed and secrets masked."""

from pacdeploy.diagnose import logs

SECRET = "s3cr3t-Pa55"


def pod(name, uid, *, init_state=None, state=None, restarts=0):
    status = {"containerStatuses": [{"name": "mongo", "restartCount": restarts, "state": state}]}
    if init_state is not None:
        status["initContainerStatuses"] = [{"name": "prepare", "state": init_state}]
    return {
        "metadata": {"name": name, "uid": uid},
        "spec": {"initContainers": [{"name": "prepare"}], "containers": [{"name": "mongo"}]},
        "status": status,
    }


def test_every_container_by_pod_name_init_containers_first():
    found = logs.sources([pod("mongo-1", "b"), pod("mongo-0", "a")])
    assert [(s.pod, s.container) for s in found] == [
        ("mongo-0", "prepare"),
        ("mongo-0", "mongo"),
        ("mongo-1", "prepare"),
        ("mongo-1", "mongo"),
    ]
    assert found[0].prefix == "[pod/mongo-0/prepare]"


def test_a_follow_starts_on_running_containers_and_a_restart_is_another_source():
    running = {"running": {"startedAt": "now"}}
    done = {"terminated": {"exitCode": 0}}
    first = logs.sources([pod("mongo-0", "a", init_state=done, state=running)], running_only=True)
    assert [(s.container, s.instance) for s in first] == [("mongo", 0)]
    again = logs.sources([pod("mongo-0", "a", state=running, restarts=1)], running_only=True)
    recreated = logs.sources([pod("mongo-0", "z", state=running)], running_only=True)
    assert first[0] != again[0] and first[0] != recreated[0]
    assert logs.sources([pod("mongo-0", "a", state={"waiting": {}})], running_only=True) == []


def test_lines_are_prefixed_and_secret_values_and_url_passwords_masked():
    text = f"auth ok for {SECRET}\nconnect mongodb://pacman:other@mongo:27017/pacman\n"
    source = logs.Source("pacman-1", "pacman")
    lines = list(logs.prefixed(source, text, [SECRET]))
    assert lines == [
        "[pod/pacman-1/pacman] auth ok for ***",
        "[pod/pacman-1/pacman] connect mongodb://pacman:***@mongo:27017/pacman",
    ]


def test_one_workload_or_the_whole_app():
    assert logs.selector("mongo") == "name=mongo"
    assert logs.selector(None) == "name in (pacman,mongo)"
