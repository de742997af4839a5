"""IFEval: the instruction checks, the sentence splitter, the verifier, and ``follows`` (shared with IFBench)."""
