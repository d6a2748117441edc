"""Usage: CDR import, rate decks (retail and carrier), rated calls and margins.

For now the app holds the offline ``ringup rate`` command; the rating itself is
``ringup.engine.rating``.
"""
