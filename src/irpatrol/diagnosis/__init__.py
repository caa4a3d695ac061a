"""Hot spots, comparisons, rule packs and grading (pure core)."""
