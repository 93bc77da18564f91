"""The test suite's live server: Django's, with three fixes for a server that many clients
(Chromium, schemathesis, the fuzzers) hit thousands of times.

* Responses go out at once: the handler writes headers and body in separate sends, and with
  Nagle's algorithm on each response waited for the client's delayed ACK (40 ms on Linux;
  schemathesis took 255 s instead of 43 s).
* A request with a chunked body ends its connection. wsgiref cannot read such a body; left in
  a kept-alive connection it was parsed as the next request, answered HTTP/0.9-style (no
  status line), and the client's next request on that connection failed with "Connection
  aborted".
* A connection closes gracefully: the server stops writing, then reads what the client still
  sends before it closes, so the client never gets a reset in place of its response.

Installed by tests/conftest.py as ``LiveServerThread.server_class`` (pytest-django's
``live_server`` starts a ``LiveServerThread``).
"""

import socket

from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import QuietWSGIRequestHandler

LINGER_SECONDS = 2


class Handler(QuietWSGIRequestHandler):
    disable_nagle_algorithm = True

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed and self.headers.get("Transfer-Encoding"):
            self.close_connection = True
        return parsed


class LiveServer(ThreadedWSGIServer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.RequestHandlerClass = Handler

    def shutdown_request(self, request):
        try:
            request.shutdown(socket.SHUT_WR)
            request.settimeout(LINGER_SECONDS)
            while request.recv(65536):
                pass
        except OSError:
            pass
        self.close_request(request)
