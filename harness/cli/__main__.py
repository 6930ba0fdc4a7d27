"""``python -m harness.cli``: the same as the ``queuebench`` command."""

from harness.cli import main

main()
