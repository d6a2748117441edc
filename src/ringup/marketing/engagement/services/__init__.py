"""Writes of the engagement app: banners shown and clicked, follow-up tasks and rules."""
