"""journey."""
