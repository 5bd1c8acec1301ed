"""lasso package (see ../shared/DESIGN.md)."""
