"""One HTTPS POST to a provider, telling apart a request that never left from one that may have.

The connection is opened first (TCP and TLS): a failure there means the provider never saw the
request (``NotSent``). Once the request is being written, any failure (a timeout, a reset) leaves
the outcome open (``MaybeSent``). The standard library only: no extra dependency.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from urllib.parse import urlsplit


class NotSent(Exception):
    """The request surely did not reach the provider."""


class MaybeSent(Exception):
    """The request may have reached the provider; no answer came back."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


def host_of(url: str) -> str:
    """The Host header of ``url`` (``host`` or ``host:port``)."""
    return urlsplit(url).netloc


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> Reply:
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    try:
        try:
            connection.connect()
        except OSError as error:
            raise NotSent(f"connect: {type(error).__name__}: {error}") from error
        try:
            connection.request("POST", parts.path or "/", body=body, headers=headers)
            response = connection.getresponse()
            return Reply(response.status, response.read())
        except (OSError, http.client.HTTPException) as error:
            raise MaybeSent(f"{type(error).__name__}: {error}") from error
    finally:
        connection.close()
