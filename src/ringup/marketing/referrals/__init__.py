"""The referral program: links and codes, attribution, rewards as balance credit, abuse checks."""
