"""dynamics package (see ../shared/DESIGN.md)."""
