"""The static dashboard (``queuebench publish``): :mod:`.site` gathers and writes, :mod:`.svg` draws."""
