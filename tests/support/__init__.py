"""Shared test helpers: clean environments, a loopback TLS server, distro CA layouts."""
