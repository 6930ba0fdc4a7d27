"""``python -m queuebench`` and the ``queuebench`` command: the command line (:mod:`harness.cli`).

The shadow check runs first, so a foreign ``harness`` or ``strategies`` package is one line and
exit code 2, not a traceback from deep inside an import.
"""

from __future__ import annotations

import sys


def main() -> None:
    from queuebench._ours import problem

    why = problem()
    if why:
        print(f"error: {why}", file=sys.stderr)
        sys.exit(2)
    from harness.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
