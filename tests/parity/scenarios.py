"""The parity table: every scenario, with the client-go test it is ported from."""

from __future__ import annotations

from tests.parity.scenarios_credentials import CREDENTIALS
from tests.parity.scenarios_exec_proxy import EXEC_PROXY
from tests.parity.scenarios_files import FILES
from tests.parity.scenarios_servers import SERVERS

SCENARIOS = [*FILES, *SERVERS, *CREDENTIALS, *EXEC_PROXY]
