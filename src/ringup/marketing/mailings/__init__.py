"""Mailings: one-off, scheduled, recurring and triggered e-mail to segments, with consent,
tracking and control groups."""
