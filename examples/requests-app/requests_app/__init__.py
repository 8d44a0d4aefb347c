"""GET a URL with requests; print the HTTP status; exit 0 on 2xx, 1 otherwise."""
