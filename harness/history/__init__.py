"""Many runs as a history: series per machine x interpreter x scenario x strategy x metric
(:mod:`.series`), and the change points found in each (:mod:`.changes`)."""
