"""The `pacdeploy` process: ``python -m pacdeploy``, and the console scripts
(``pacdeploy``, ``kubectl-pacdeploy``). What only a process of its own does happens here,
before the command line loads: the regular expressions its modules compile are kept, and
urllib3's HTTP/2 package ``__init__`` is stood in for (kube/stand_ins.py)."""

from pacdeploy import regex_cache
from pacdeploy.kube import stand_ins
from pacdeploy.sandbox import paths


def main() -> None:
    _process()
    from pacdeploy.cli import run

    run()


def kubectl_plugin() -> None:
    """`kubectl pacdeploy ...` (krew's plugin convention)."""
    _process()
    from pacdeploy.cli import run_as_kubectl_plugin

    run_as_kubectl_plugin()


def _process() -> None:
    regex_cache.use(paths.cache_root() / "regex")
    stand_ins.urllib3_http2()


if __name__ == "__main__":
    main()
