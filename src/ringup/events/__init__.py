"""Domain events and the transactional outbox: written with the change, delivered once
per consumer."""
