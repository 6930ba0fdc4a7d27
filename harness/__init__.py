"""queuebench's harness. Keep this file empty of imports: the worker imports this package."""
