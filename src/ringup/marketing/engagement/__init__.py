"""Portal banners, related products in context, follow-up tasks for sales managers and
the customer timeline."""
