"""report layer (reserved; later issues fill it)."""
