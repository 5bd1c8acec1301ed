"""validation package (see ../shared/DESIGN.md)."""
