"""Concurrency strategies for queuebench. Standard library only; see base.py."""
