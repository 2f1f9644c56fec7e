"""The email digest: each user's picks, sent once a day or week, with one-click unsubscribe.

Decides who is due, composes and sends the messages (`send_digests`) and makes the
signed unsubscribe tokens; the store keeps the settings and runs (store/digests.py). It
takes a pick source (rank/picks.py) and a mailer (paperfeed.mail) as parameters, so it
knows neither the ranker nor the SMTP server; it must not write any other table than
digest_settings, digest_runs and seen_papers (channel "digest").
"""

from paperfeed.digest.send import DigestReport, Outcome, newest_papers, send_digests
from paperfeed.digest.settings import (
    FREQUENCIES,
    DigestError,
    delivery_time,
    set_delivery_time,
    set_frequency,
    subscription,
    unsubscribe,
    unsubscribe_token,
    verify_unsubscribe,
)

__all__ = [
    "FREQUENCIES",
    "DigestError",
    "DigestReport",
    "Outcome",
    "delivery_time",
    "newest_papers",
    "send_digests",
    "set_delivery_time",
    "set_frequency",
    "subscription",
    "unsubscribe",
    "unsubscribe_token",
    "verify_unsubscribe",
]
