"""The world driver (:mod:`testbed.scenarios.world`) against a real agent
farm, no controller: what a sim agent refuses comes back as a
:class:`WorldError` naming the node and the agent's reason, and a UE's
attach outcome is the cell's own answer."""

from __future__ import annotations

import pytest

from testbed.city import City, CityCell, CityRadio, CityStation, CityVif, Tenant
from testbed.medium.model import TrafficSpec
from testbed.scenarios.farm import CityFarm
from testbed.scenarios.world import CityWorld, SimWorld, WorldError

from ..controller.conftest import keys  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow


def _city() -> City:
    return City(
        "tiny",
        (CityRadio("ap1", "phy0", "2.4ghz", 6, (0.0, 0.0), "02:00:00:00:01:00"),),
        (Tenant("A", 50.0, "tenant-A"),),
        (CityVif("ap1", "phy0", "A", "wlan-A", TrafficSpec("saturating"),
                 (CityStation("06:00:00:00:00:01"),)),),
        cells=(CityCell("cell1", (10.0, 0.0)),),
    )


def test_refusals_name_the_node_and_the_reason(tmp_path, keys):  # noqa: F811
    city = _city()
    with CityFarm(city, tmp_path / "farm", keys["authorized"]) as farm:
        assert {a["name"]: a["kind"] for a in farm.inventory} == {"ap1": "wifi", "cell1": "lte"}
        with SimWorld(farm.inventory, keys["tester"]) as world:
            # No controller configured a vif with that SSID.
            with pytest.raises(WorldError, match=r"ap1: station-attach refused: .*tenant-A"):
                CityWorld(city, world).start()
            with pytest.raises(WorldError, match=r"no station of tenant A is associated on ap1/phy0"):
                CityWorld(city, world).set_traffic("ap1", "phy0", "A", TrafficSpec("idle"))
            with pytest.raises(WorldError, match=r"node ap9 is not in the inventory"):
                world.station_attach("ap9", "phy0", "tenant-A", "06:00:00:00:00:02")
            # The cell broadcasts nothing yet: the attach is refused by the
            # cell, which is an answer, not an error.
            outcome = world.ue_attach("cell1", "001010000000001", ("001", "01"))
            assert (outcome.accepted, outcome.result, outcome.cause) == (False, "rejected", "plmn-not-broadcast")
