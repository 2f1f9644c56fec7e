"""Ratings, the library and follows, as the web's endpoints and buttons use them."""

from __future__ import annotations

import pytest

from paperfeed.accounts import Accounts
from paperfeed.application.library import Library, LibraryError
from paperfeed.catalog import Catalog


def _ids(catalog: Catalog) -> tuple[int, int, int]:
    user = Accounts(catalog.store).sign_up("reader@example.org", "long enough password").id
    first, second = (p.id for p in catalog.store.get_many([1, 2], details=False))
    return user, first, second


def test_rate_save_and_unsave_answer_the_users_marks(catalog: Catalog) -> None:
    user, first, second = _ids(catalog)
    library = Library(catalog.store)
    assert library.rate(user, first, 1).rating == 1
    mine = library.save(user, first, ["to read", "OOD"])
    assert (mine.rating, mine.saved, mine.tags) == (1, True, ("to read", "ood"))
    assert library.rate(user, first, 0).rating == 0
    assert library.unsave(user, first).saved is False
    library.act(user, second, "down")
    library.act(user, second, "save", ["later"])
    assert library.states(user, [second]) == {second: (-1, True)}
    assert library.tags(user) == ["later"]
    assert [x.paper_id for x in library.saved(user, "later")] == [second]
    library.act(user, second, "clear")
    assert library.mine(user, second).rating == 0
    with pytest.raises(LibraryError, match="unknown action: use up, down"):
        library.act(user, second, "delete-everything")


def test_follows_are_kept_and_a_bad_kind_is_refused(catalog: Catalog) -> None:
    user, _, _ = _ids(catalog)
    library = Library(catalog.store)
    library.follow(user, "category", "cs.LG")
    [(follow_id, kind, value)] = library.follows(user)
    assert (kind, value) == ("category", "cs.LG")
    with pytest.raises(ValueError):
        library.follow(user, "planet", "Mars")
    assert library.unfollow(user, follow_id) and library.follows(user) == []
