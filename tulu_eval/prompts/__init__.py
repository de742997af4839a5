"""Prompt texts that several task declarations share (one copy each)."""
