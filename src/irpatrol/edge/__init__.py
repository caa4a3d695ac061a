"""edge layer (reserved; later issues fill it)."""
