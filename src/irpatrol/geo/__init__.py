"""geo layer (reserved; later issues fill it)."""
