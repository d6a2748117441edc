"""Ringup: grow ARPU for cloud telephony and subscription providers."""

__version__ = "0.1.0"
