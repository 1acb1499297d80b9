"""Catalogue stores, one module per engine."""
