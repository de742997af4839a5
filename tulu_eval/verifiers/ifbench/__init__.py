"""ifbench."""
