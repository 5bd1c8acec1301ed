"""Replica-symmetric saddle-point theory of the Generalized Trans-Lasso."""
