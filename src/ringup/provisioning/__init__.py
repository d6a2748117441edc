"""Provisioning: accounts on the PBX platform (webhook, demo adapters) kept in step with
subscription events."""
