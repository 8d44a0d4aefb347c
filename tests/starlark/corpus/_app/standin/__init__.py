"""A stand-in for a corpus project's own app: fetch a URL, print the HTTP status."""
