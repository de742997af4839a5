"""Where model-written code runs (bubblewrap, or limits only with ``unsafe-no-isolation``)."""
