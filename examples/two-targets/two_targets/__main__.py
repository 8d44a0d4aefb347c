import sys

print("bootstrap embedded" if "pyoxidizer_ssl_bootstrap" in sys.modules else "plain")
