"""The B2B sales toolkit: deals with bill analysis, TCO/ROI proposals and deployment
advice (``deals``), and carrier-cost margins with risk flags (``margins``)."""
