"""Tally stores, one module per engine."""
