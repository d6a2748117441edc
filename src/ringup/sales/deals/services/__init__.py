"""Writes and commands on deals: the pipeline (``deals``), the prospect's bill
(``bills``) and the proposal's share links (``proposals``)."""
