"""Carrier deck versions, the margin monitor and risk flags on customers."""
