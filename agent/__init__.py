"""The ransdn node agent: a NETCONF server on each Wi-Fi node and small cell."""
