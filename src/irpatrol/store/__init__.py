"""store layer (reserved; later issues fill it)."""
