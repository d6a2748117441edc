"""Promotions and promo codes: conditions, benefits, race-safe redemption, discounts on
quotes and invoices."""
