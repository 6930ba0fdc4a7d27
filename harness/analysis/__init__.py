"""Numbers only: per-trial metrics, the summary, ranking and rank statistics, survival, trust."""
