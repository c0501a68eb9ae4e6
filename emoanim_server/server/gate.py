"""Admission before a session exists: handshakes, authentication, what an unauthenticated
client may hold (issue 14 items 6 and 13).

Why a separate gate: every resource a stranger can take without the token must be bounded
separately from what authenticated clients use, or a flood of strangers locks the owner out.

* **Half-open sockets / pending handshakes** are counted from the TCP accept; over
  ``max_pending_handshakes`` the *oldest* pending socket is closed to make room (a real client
  finishes its handshake within milliseconds of connecting, so a flood of sockets that never
  send a request cannot keep it out, and no file descriptors pile up for
  ``handshake_timeout_s`` each).
* **Authentication first**: with a token configured, a client may authenticate in the
  handshake (``Authorization: Bearer TOKEN``, checked in constant time) and is then counted
  against ``max_connections`` only; a connection without it is *unauthenticated* until a
  StartSession with the right ``auth_token`` is accepted: at most
  ``max_unauthenticated_connections`` of those exist at once, each must authenticate within
  ``auth_timeout_s`` of connecting (pings and other messages do not extend it).
* **Guessing is throttled**: every failed token holds the failing connection
  ``auth_failure_delay_s`` before it is closed, and an address with ``auth_failures_per_minute``
  failures in the last minute gets HTTP 429 for handshakes that do not carry the right token.
"""
from __future__ import annotations

import collections
import hmac
import ipaddress
import socket
import time
from typing import Callable

from .limits import ServerLimits


def is_loopback(host: str) -> bool:
    """True only when every address ``host`` resolves to is a loopback address.

    A prefix test (``host.startswith("127.")``) accepts ``127.example.com``, which resolves
    anywhere; a bind address the OS cannot resolve is not loopback."""
    if not host:
        return False  # "" binds every interface
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    addrs = {info[4][0] for info in infos}
    try:
        return bool(addrs) and all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addrs)
    except ValueError:
        return False


def log_safe(text: str, cap: int) -> str:
    """Client-chosen text for a log line: at most ``cap`` characters, control characters
    (newlines that would forge log lines, ANSI escapes, NUL) and non-ASCII escaped, so one line
    stays one line and a 1 MB name costs ``cap`` bytes."""
    cut = text[:cap]
    shown = cut.encode("ascii", "backslashreplace").decode("ascii")
    shown = "".join(c if " " <= c <= "~" else f"\\x{ord(c):02x}" for c in shown)
    return shown + (f"...(+{len(text) - cap} chars)" if len(text) > cap else "")


def bearer_token(value: str | None) -> str | None:
    """``Authorization: Bearer X`` -> X (None when absent or another scheme)."""
    if not value:
        return None
    scheme, _, rest = value.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest.strip() else None


class AuthGate:
    """Counters and the failure throttle; used from the event-loop thread only."""

    def __init__(self, limits: ServerLimits, token: str | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.token = token
        self.clock = clock
        self._pending: collections.OrderedDict = collections.OrderedDict()  # accepted, no request yet
        self.unauthenticated = 0  # handshake done, no token shown yet
        self.authenticated = 0
        self.refused_pending = 0
        self._failures: dict[str, collections.deque] = {}

    # ---------------------------------------------------------------- sockets
    @property
    def pending(self) -> int:
        return len(self._pending)

    def socket_opened(self, conn) -> object | None:
        """A TCP connection was accepted; returns the oldest pending one to close when over
        max_pending_handshakes (None: room enough)."""
        victim = None
        if len(self._pending) >= max(1, self.limits.max_pending_handshakes):
            victim, _ = self._pending.popitem(last=False)
            self.refused_pending += 1
        self._pending[conn] = None
        return victim

    def handshake_over(self, conn) -> None:
        self._pending.pop(conn, None)

    # ---------------------------------------------------------------- tokens
    def token_ok(self, presented: str | None) -> bool:
        if self.token is None:
            return True
        return presented is not None and hmac.compare_digest(presented.encode(), self.token.encode())

    def failure(self, client: str) -> None:
        q = self._failures.setdefault(client, collections.deque())
        q.append(self.clock())
        self._prune(client)

    def throttled(self, client: str) -> bool:
        self._prune(client)
        q = self._failures.get(client)
        return bool(q) and len(q) >= self.limits.auth_failures_per_minute > 0

    def _prune(self, client: str) -> None:
        q = self._failures.get(client)
        if q is None:
            return
        horizon = self.clock() - 60.0
        while q and q[0] < horizon:
            q.popleft()
        if not q:
            del self._failures[client]
        if len(self._failures) > 10000:  # a spray of addresses must not grow this without end
            for k in list(self._failures)[:5000]:
                del self._failures[k]

    # ---------------------------------------------------------------- admission
    def admit(self, client: str, authorization: str | None) -> tuple[int, str] | bool:
        """At the HTTP handshake: (status, text) to refuse, or whether it is authenticated."""
        L = self.limits
        if self.token is None:
            if self.authenticated >= L.max_connections:
                return 503, f"too many connections (max_connections={L.max_connections})\n"
            return True
        presented = bearer_token(authorization)
        if presented is not None:
            if self.token_ok(presented):
                if self.authenticated >= L.max_connections:
                    return 503, f"too many connections (max_connections={L.max_connections})\n"
                return True
            self.failure(client)
            return 401, "wrong token\n"
        if self.throttled(client):
            return 429, (f"too many failed authentications from {client} "
                         f"(auth_failures_per_minute={L.auth_failures_per_minute}); try again later\n")
        if self.unauthenticated >= L.max_unauthenticated_connections:
            return 503, ("too many unauthenticated connections (max_unauthenticated_connections="
                         f"{L.max_unauthenticated_connections}); send Authorization: Bearer TOKEN\n")
        return False

    def stats(self) -> dict:
        return {"pending_handshakes": self.pending, "unauthenticated": self.unauthenticated,
                "refused_half_open": self.refused_pending}
