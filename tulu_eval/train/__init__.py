"""Thin SFT / DPO / RLVR trainers on TRL that reuse the evaluation verifiers as rewards."""
