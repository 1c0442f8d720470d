"""kgdnc: knowledge-graph question answering with the Differentiable Neural Computer.

Importing the package is cheap: torch is imported only by the sub-packages that
need it (``kgdnc.dnc``, ``kgdnc.training``, ...), never here.
"""

from kgdnc.errors import KgdncError, UserError

__version__ = "0.1.0"
__all__ = ["KgdncError", "UserError", "__version__"]
