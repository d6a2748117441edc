"""Revenue analytics: stored monthly aggregates, the dashboard, ARPU levers, the report."""
