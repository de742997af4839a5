"""IFBench (out-of-distribution instruction following): its checks and the verifier."""
