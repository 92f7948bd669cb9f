"""Route modules of the node core; each has a ``routes`` table and its ``OPENAPI_PATHS``."""
