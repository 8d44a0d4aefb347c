"""pyoxidizer-ssl Starlark API (in progress)."""
