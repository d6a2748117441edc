"""API keys: bearer tokens for the operator's integrations calling the staff API."""
