"""Radiometry, measurement tools and palettes on temperature arrays (pure numpy)."""
