"""A probe app for the real binaries: each command prints one line the tests assert on."""
