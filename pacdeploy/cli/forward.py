"""`pacdeploy forward`: kubectl port-forward to the Service, surviving pod restarts."""

from __future__ import annotations

import click

from pacdeploy.app.manifests import SERVICE
from pacdeploy.cli.settings import Port, Settings, pass_settings
from pacdeploy.forward import DEFAULT_LOCAL_PORT


@click.command()
@click.argument("local_port", type=Port(), default=DEFAULT_LOCAL_PORT, required=False)
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Local address to listen on (0.0.0.0 exposes it to your network).",
)
@click.option("--service", default=SERVICE, show_default=True)
@click.option(
    "--port",
    "service_port",
    default="80",
    show_default=True,
    help="Service port, by number or name.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the URL in a browser.")
@pass_settings
def forward(
    settings: Settings,
    *,
    local_port: int,
    address: str,
    service: str,
    service_port: str,
    open_browser: bool,
) -> None:
    """Forward LOCAL_PORT (default 9090; 0 = any free) to the Service, surviving pod restarts."""
    from pacdeploy.forward import display
    from pacdeploy.forward.server import Forwarder

    port: int | str = int(service_port) if service_port.isdigit() else service_port
    forwarder = Forwarder(
        settings.cluster(),
        settings.namespace,
        service,
        port=port,
        address=address,
        local_port=local_port,
    ).open()
    if open_browser:
        import webbrowser

        webbrowser.open(forwarder.url)
    display.run(forwarder, settings.out)
