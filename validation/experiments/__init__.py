"""validation/experiments package (see ../shared/DESIGN.md)."""
