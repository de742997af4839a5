"""decontam."""
