"""ransdn: an SDN controller that slices a city's Wi-Fi APs and LTE small
cells among tenants.

Rooms, top to bottom: ``api`` (REST, knows no NETCONF) and ``cli`` (a client
of the API) call the ``service`` layer; it keeps intents in the ``store``,
checks them with ``admission``, turns them into per-node YANG data with
``render`` and drives the nodes through ``provisioning`` and ``reconcile``
over the NETCONF ``southbound`` (knows no HTTP).  ``airtime`` is the global
scheduler (pure computation).
"""

__version__ = "0.1.0"
