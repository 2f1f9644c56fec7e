"""Who gets a digest and how often, and the signed one-click unsubscribe tokens.

A user without a setting gets the daily digest (the default a new account starts
with); "off" stops it. The scheduler sends it once the user's local hour has come
(`hour`, 0-23, in the IANA time zone `timezone`; 7 o'clock UTC by default), and the
period (day or ISO week) is the user's local one. An unsubscribe token is the user id
signed with the
installation's secret key (itsdangerous, salt "paperfeed.unsubscribe"). It does not
expire: a link in an old email must still work, and all it can do is stop emails.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from itsdangerous import BadData, URLSafeSerializer

from paperfeed.clock import utc_now
from paperfeed.errors import PaperfeedError
from paperfeed.store import Store
from paperfeed.store.digests import DigestStore
from paperfeed.store.digests import Frequency as Frequency  # the values live in the store
from paperfeed.store.digests import Subscription as Subscription

FREQUENCIES: tuple[Frequency, ...] = ("daily", "weekly", "off")
DEFAULT_FREQUENCY: Frequency = "daily"
UNSUBSCRIBE_SALT = "paperfeed.unsubscribe"
DEFAULT_HOUR = 7  # local time: the digest is there before the working day
DEFAULT_TIMEZONE = "UTC"
MAX_TOKEN_LENGTH = 200  # a real token is about 40 characters


class DigestError(PaperfeedError):
    """A digest request that cannot be done (unknown frequency, bad base URL ...)."""


def _serializer(secret: bytes) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(secret: bytes, user_id: int) -> str:
    """The token of a user's unsubscribe link (URL-safe, no expiry)."""
    return _serializer(secret).dumps({"u": user_id})


def verify_unsubscribe(secret: bytes, token: str) -> int | None:
    """The user id in a token, or None when it is malformed, too long or not signed by us."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        data: Any = _serializer(secret).loads(token)
    except (BadData, UnicodeError, ValueError):
        return None
    user = data.get("u") if isinstance(data, dict) else None
    # bool is an int: {"u": true} is not a user id.
    if not isinstance(user, int) or isinstance(user, bool) or user <= 0:
        return None
    return user


def subscription(store: Store, user_id: int) -> Subscription:
    """A user's setting; the default (daily) when they never chose."""
    found = DigestStore(store).subscription(user_id)
    return found if found is not None else Subscription(DEFAULT_FREQUENCY, None)


def set_frequency(store: Store, user_id: int, frequency: str, *,
                  now: datetime | None = None) -> None:
    """Choose daily, weekly or off; choosing daily or weekly undoes an unsubscribe."""
    if frequency not in FREQUENCIES:
        raise DigestError(f"frequency: expected one of {', '.join(FREQUENCIES)}, "
                          f"got {frequency!r}")
    if not DigestStore(store).set_subscription(user_id, frequency, None,
                                               now=now or utc_now()):
        raise DigestError("no such account")


def unsubscribe(store: Store, user_id: int, *, now: datetime | None = None) -> bool:
    """Stop a user's digests (the one-click link); False when the account no longer exists."""
    now = now or utc_now()
    return DigestStore(store).set_subscription(user_id, "off", now, now=now)


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` ("Europe/Berlin"), or a DigestError naming the field."""
    try:
        if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise DigestError(f"time zone: expected an IANA name such as Europe/Berlin, "
                          f"got {name!r}") from exc


def set_delivery_time(store: Store, user_id: int, hour: int, timezone: str, *,
                      now: datetime | None = None) -> None:
    """Choose the local hour (0-23) and time zone the digest is sent at."""
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        raise DigestError(f"hour: expected a whole hour from 0 to 23, got {hour!r}")
    time_zone(timezone)
    if not DigestStore(store).set_delivery(user_id, hour, timezone, now=now or utc_now(),
                                           default=DEFAULT_FREQUENCY):
        raise DigestError("no such account")


def delivery_time(sub: Subscription) -> tuple[int, str]:
    """The user's send hour and time zone, the defaults filled in."""
    hour = sub.hour if sub.hour is not None else DEFAULT_HOUR
    return hour, sub.timezone or DEFAULT_TIMEZONE
