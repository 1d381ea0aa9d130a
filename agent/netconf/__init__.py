"""NETCONF: framing, sessions, operations and SSH transport of the node agent."""
