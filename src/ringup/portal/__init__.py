"""The customer's self-service portal: services, add-ons, invoices, usage, profile."""
