"""The suite's live server (tests/liveserver.py) keeps a kept-alive connection in step."""

import socket
from urllib.parse import urlsplit

from tests import liveserver


def exchange(live_server, raw: bytes) -> bytes:
    """Send ``raw`` on one connection and read until the server closes it (or goes quiet)."""
    url = urlsplit(live_server.url)
    received = b""
    with socket.create_connection((url.hostname, url.port), timeout=3) as sock:
        sock.sendall(raw)
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            received += b"<the server kept the connection open>"
    return received


def test_a_chunked_request_ends_its_connection_instead_of_poisoning_the_next(live_server):
    """wsgiref does not read chunked bodies: the last chunk used to be parsed as a request of
    its own and answered without a status line, in place of the client's next response."""
    received = exchange(
        live_server,
        b"POST /api/capacity/plan/ HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n"
        b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    )
    assert received.startswith(b"HTTP/1.1 ")
    assert received.count(b"HTTP/1.1 ") == 1, received[-400:]
    assert b"<!DOCTYPE HTML>" not in received and b"kept the connection" not in received


def test_responses_are_sent_without_waiting_for_acks(live_server):
    assert liveserver.Handler.disable_nagle_algorithm
    received = exchange(
        live_server, b"GET /health/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    assert received.startswith(b"HTTP/1.1 200")
