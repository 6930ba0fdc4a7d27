"""The one lazy loader for the house's ``"module:callable"`` names: the strategy registry's
targets, checks and caveats, the work kinds' ``KIND`` objects, the launchers and the export
formats all name what they load this way, and load it here, on first use.

Standard library only (the measured side uses it too). :func:`pkgutil.resolve_name` does the
work; the cache keeps a second lookup of a name to a dictionary read.
"""

from __future__ import annotations

import functools
import pkgutil
from typing import Any


@functools.cache
def resolve(target: str) -> Any:
    """The object ``target`` names, ``"package.module:attribute"``, importing its module on
    first use. Raises ImportError or AttributeError, as an import would."""
    if ":" not in target:
        raise ValueError(f"{target!r}: expected 'module:attribute'")
    return pkgutil.resolve_name(target)
