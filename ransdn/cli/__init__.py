"""The ``ransdn`` command line: a client of the REST API."""
