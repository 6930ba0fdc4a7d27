"""The regression gate: compare two runs, verdict statistics, the drift guard, baselines, and ``ab``."""
