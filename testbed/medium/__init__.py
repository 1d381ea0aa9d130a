"""A simulated shared radio medium for the agents' sim backend.

See :mod:`testbed.medium.model` for the interface the sim backend codes
against.
"""
