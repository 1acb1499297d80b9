"""xAPI data: validation, enrichment, equivalence, queries, formats and statement stores."""
