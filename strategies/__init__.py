"""Concurrency strategies for queuebench: the measured side. Standard library only; see base.py."""

#: Marks this package as queuebench's own (``queuebench._ours`` checks it).
__queuebench__ = True
