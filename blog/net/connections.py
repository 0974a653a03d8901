"""Sockets for ``blog.outbound``: name resolution, and HTTP(S) connections
pinned to an address that was checked beforehand."""

from __future__ import annotations

import http.client
import socket
import ssl


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def numeric_address(host: str) -> str | None:
    """The address of a numeric host (127.1, 2130706433, ::1), else None."""
    try:
        infos = socket.getaddrinfo(
            host, 80, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return infos[0][4][0]


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address checked beforehand; Host stays the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = address

    def connect(self) -> None:
        """Open the socket to the checked address, never a new lookup."""
        self.sock = socket.create_connection(
            (self.pinned_address, self.port), self.timeout
        )


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address; SNI and certificate checks use the host name."""

    def __init__(
        self,
        host: str,
        port: int,
        address: str,
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.pinned_address = address

    def connect(self) -> None:
        """Open TLS to the checked address, verified against the host's name."""
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def abort(conn: http.client.HTTPConnection) -> None:
    """Shut the connection's socket down so a blocked read returns at once."""
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
