"""pyoxidizer-ssl: correct TLS trust for PyOxidizer binaries, rendered and embedded at build time.

The build plugin reads ``[tool.pyoxidizer-ssl]`` and checks it (``config``, and ``extra_ca`` with
``certinfo`` for the corporate CAs), renders the runtime package ``pyoxidizer_ssl_bootstrap``
(``render``; ``x509`` is copied into it) that ``pyoxidizer.bzl`` embeds in the executable, and
drives ``pyoxidizer build`` (``cli``, ``build``), ``init`` (``adopt``) and ``doctor``. What can go
wrong, and the exit code it gives, is in ``errors``.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
