"""Segments: customer conditions combined freely, each compiled to one SQL query."""
