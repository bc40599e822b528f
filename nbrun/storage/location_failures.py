"""One line for a failed filesystem or object-store call: missing, denied, unreachable, an HTTP status.

Filesystems (fsspec, boto, aiohttp) fail with many exception types and long
messages that may echo credentials; users get one short, scrubbed line.
"""

from __future__ import annotations

import re
from http import HTTPStatus


def describe_failure(exc: BaseException, action: str, *, http: bool = False) -> str:
    """One line for a filesystem failure, without credentials: missing, denied, unreachable or other.

    fsspec's HTTP filesystem turns a 404 answer into FileNotFoundError; *http* says the status too.
    """
    if isinstance(exc, FileNotFoundError):
        if action == "read":
            return "no such object (HTTP 404 Not Found)" if http else "no such object"
        return f"cannot {action}: the bucket or folder does not exist"
    code, status = _http_status(exc)
    if code in (401, 403):
        return f"cannot {action}: access denied ({status})"
    if code:
        return f"cannot {action}: {status}"
    if isinstance(exc, (PermissionError,)) or _looks_denied(exc):
        return f"cannot {action}: access denied"
    if _looks_unreachable(exc):
        return f"cannot {action}: endpoint unreachable ({first_line(exc)})"
    return f"cannot {action}: {first_line(exc) or type(exc).__name__}"


def _http_status(exc: BaseException) -> tuple[int, str]:
    """(500, ``HTTP 500 Internal Server Error``) for an HTTP error answer (aiohttp's ClientResponseError), else (0, '')."""
    code = getattr(exc, "status", None)
    if type(code) is not int or not 400 <= code < 600:
        return 0, ""
    reason = str(getattr(exc, "message", "") or "").strip() or _HTTP_PHRASES.get(code, "")
    return code, _scrub(f"HTTP {code} {reason.splitlines()[0] if reason else ''}".rstrip())[:300]


_HTTP_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def _looks_denied(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}"
    return any(word in text for word in ("AccessDenied", "Forbidden", "403", "Read-only", "read-only"))


def _looks_unreachable(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    unreachable = {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ClientConnectorError",
        "ConnectionError",
        "ServerTimeoutError",
        "ConnectionRefusedError",
        "TimeoutError",
        "ClientConnectionError",
    }
    return bool(names & unreachable) or "Could not connect" in str(exc)


def first_line(exc: BaseException) -> str:
    """The first line of *exc*'s message, scrubbed of credentials and at most 300 characters."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    return _scrub(line)[:300]


_SECRET = re.compile(r"(?i)(://)[^/@\s]+@|((?:signature|credential|token|key|secret)[^=&\s]*=)[^&\s]+")


def _scrub(text: str) -> str:
    """Drop userinfo and signed-URL secrets a filesystem message might echo."""
    return _SECRET.sub(lambda m: m.group(1) or (m.group(2) + "***"), text)
