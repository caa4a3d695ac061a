"""server layer (reserved; later issues fill it)."""
