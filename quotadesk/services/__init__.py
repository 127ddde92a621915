"""Use cases: one function = one user action = one transaction; pure rules beside them."""
