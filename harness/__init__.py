"""queuebench's measuring side (internal: the public face is the ``queuebench`` package).

Keep this file free of imports: the worker imports this package.
"""

#: Marks this package as queuebench's own (``queuebench._ours`` checks it).
__queuebench__ = True
