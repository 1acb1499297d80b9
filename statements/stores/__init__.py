"""Statement stores, one module per engine."""
