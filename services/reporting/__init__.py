"""Reporting: read models built from events: progress, filing queries, statistics, e-certificates."""
