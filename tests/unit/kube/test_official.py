"""The official client's REST layer loads without its package's eager ``__init__``, for
the client version pyproject.toml pins, and the plain way otherwise."""

from __future__ import annotations

from pacdeploy.kube import official
from tests.support.cli import fresh_python

# What the package's __init__ would bring (config, ApiClient) and a command never needs;
# and kubernetes.utils's (its YAML loader, durations, metrics).
HEAVY = (
    "pydantic",
    "requests",
    "kubernetes.config",
    "kubernetes.client.api_client",
    "dateutil",
    "kubernetes.utils.create_from_yaml",
    "durationpy",
    "kubernetes.utils.metrics",
)


def test_the_pinned_client_loads_its_rest_layer_alone() -> None:
    loaded = fresh_python(
        "import sys, urllib3\n"
        "from pacdeploy.kube import official\n"
        "official.rest_client('https://127.0.0.1:6443', urllib3.PoolManager())\n"
        "official.api_error(404, 'gone'); official.parse_quantity('1Gi')\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "print(sys.modules['kubernetes'].__pacdeploy_stand_in__)\n"
        "print(sys.modules['kubernetes.client'].__pacdeploy_stand_in__)"
    )
    assert loaded.splitlines() == ["[]", "True", "True"], "the slow path was taken: " + loaded


def test_the_installed_client_is_the_version_the_stand_in_is_for() -> None:
    # pyproject.toml pins kubernetes>=37,<38: a client outside it takes the plain import,
    # and this says so before a user's command gets slower without a word.
    version = official.installed_version()
    assert version is not None
    assert version.startswith(official.STAND_IN_FOR)


def test_another_version_takes_the_plain_import() -> None:
    loaded = fresh_python(
        "import sys\n"
        "from pacdeploy.kube import official\n"
        "official.STAND_IN_FOR = '99.'\n"
        "print(official.stand_in_for_package(), hasattr(sys.modules.get('kubernetes'), 'client'))"
    )
    assert loaded == "False False"


def test_a_process_that_imported_the_whole_package_keeps_it() -> None:
    loaded = fresh_python(
        "import kubernetes\n"
        "from pacdeploy.kube import official\n"
        "print(official.stand_in_for_package(), 'kubernetes.config' in __import__('sys').modules)"
    )
    assert loaded == "False True"


def test_an_error_answer_becomes_the_clients_api_exception() -> None:
    error = official.api_error(409, '{"reason":"AlreadyExists"}')
    assert isinstance(error, official.api_exception())
    assert getattr(error, "status", None) == 409
    assert getattr(error, "body", None) == '{"reason":"AlreadyExists"}'
