"""nets package (see ../shared/DESIGN.md)."""
