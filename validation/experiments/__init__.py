"""validation/experiments package."""
