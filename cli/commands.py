"""Imports every command module so each registers itself on ``app``.

One line per command group; keep this list in the order of ``kgdnc --help``.
"""

from kgdnc.cli import ingest  # noqa: F401, I001
from kgdnc.cli import graphs  # noqa: F401
