"""Prospects and deals: bill analysis, TCO/ROI, deployment advice and the proposal."""
