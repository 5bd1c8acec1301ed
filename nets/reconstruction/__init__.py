"""Transfer learning with a reconstruction loss (Cui & Yu, arXiv:2404.00505)."""
