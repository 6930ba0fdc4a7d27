"""Sweeps: a scenario at each value of a parameter, what the points found, and the answer in words."""
