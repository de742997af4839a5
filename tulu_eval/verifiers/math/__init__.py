"""MATH and DeepMind Mathematics: answer normalization, bounded equivalence (in a worker process
off the main thread), and their verifiers.
"""
