"""The `pacdeploy` process: ``python -m pacdeploy``, and the console scripts
(``pacdeploy``, ``kubectl-pacdeploy``). What only a process of its own does happens here,
before the command line loads: the regular expressions its modules compile are kept."""

from pacdeploy import regex_cache
from pacdeploy.sandbox import paths


def main() -> None:
    regex_cache.use(paths.cache_root() / "regex")
    from pacdeploy.cli import run

    run()


def kubectl_plugin() -> None:
    """`kubectl pacdeploy ...` (krew's plugin convention)."""
    regex_cache.use(paths.cache_root() / "regex")
    from pacdeploy.cli import run_as_kubectl_plugin

    run_as_kubectl_plugin()


if __name__ == "__main__":
    main()
