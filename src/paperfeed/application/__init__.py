"""The use cases; every delivery layer calls these.

Each module is one thing a person or a timer asks paperfeed to do, written once for
the CLI (`paperfeed.cli`), the web app (`paperfeed.web`), the background worker
(`paperfeed.jobs`) and the tests:

- `catchup`: bring derived data up to date with the store (index, cards, vocabulary);
- `harvesting`: harvest arXiv into the catalog, then catch up;
- `onboarding`: build a user's profile from their papers, arXiv ids or a publication list;
- `library`: rate, save, tag and follow;
- `digests`: send the email digests that are due.

Layering: this package may import the catalog, the store, the index, the cards, the
sources, the ranker, accounts and digest composition; it must not import `cli`, `web`,
the feed delivery (`paperfeed.feeds`) nor Typer, FastAPI or Rich. Progress is reported
through `progress.Progress`, which the CLI draws as Rich bars and the worker records.
"""

from paperfeed.application.catchup import CatchUpReport, catch_up, update_cards
from paperfeed.application.progress import Progress, QuietProgress, Step

__all__ = ["CatchUpReport", "Progress", "QuietProgress", "Step", "catch_up", "update_cards"]
