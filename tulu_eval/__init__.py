"""tulu-eval: a Tülu 3-style evaluation harness whose verifiers double as RL rewards."""

__version__ = "0.1.0"
