"""Marketing automation: segments, mailings, promotions, referrals, banners and follow-ups,
one Django app each (they migrate and evolve apart), in one layer above billing."""
