"""The benchmark harness: a statement generator and the ingest benchmark (`make bench`)."""
