"""Imports every command module so each registers itself on ``app``.

One line per command group; keep this list in the order of ``kgdnc --help``.
"""

from kgdnc.cli import ingest  # noqa: F401, I001
from kgdnc.cli import graphs  # noqa: F401
from kgdnc.cli import train  # noqa: F401
from kgdnc.cli import eval  # noqa: F401
from kgdnc.cli import query  # noqa: F401
from kgdnc.cli import finetune  # noqa: F401
from kgdnc.cli import models  # noqa: F401
from kgdnc.cli import viz  # noqa: F401
