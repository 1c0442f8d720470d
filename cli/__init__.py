"""The ``kgdnc`` command line (installed as ``kgdnc.cli``)."""
