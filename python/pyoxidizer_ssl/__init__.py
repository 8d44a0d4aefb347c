"""pyoxidizer-ssl: correct TLS trust for PyOxidizer binaries, rendered and embedded at build time.

The build plugin reads ``[tool.pyoxidizer-ssl]``, checks it (``config``, ``pem``), renders the
runtime package ``pyoxidizer_ssl_bootstrap`` (``render``) that ``pyoxidizer.bzl`` embeds in the
executable, and drives ``pyoxidizer build`` (``cli``).
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
