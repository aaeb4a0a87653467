"""One live server per process (per xdist worker), on 127.0.0.1 and an ephemeral port.

It is fleetsim's HTTP/1.1 keep-alive server (:mod:`fake_api.serving`), without an access log.
"""

from __future__ import annotations

import threading
from typing import Any, Optional

from fake_api.serving import make_fleetsim_server


class LiveServer:
    """A threaded server running ``app`` in a daemon thread.

    ``poll_interval`` is short so that :meth:`stop` takes milliseconds, not werkzeug's 0.5 s.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: Optional[Any] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fleetsim server is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        if self._server is None:
            server = make_fleetsim_server(self.host, self.port, self.app, quiet=True)
            self.port = server.port
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05},
                name=f"fleetsim-server:{self.port}", daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
        return self.url

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
