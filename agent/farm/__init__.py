"""The agent farm: many sim agents in one process for test beds and benchmarks."""

from agent.farm.cli import main
from agent.farm.farm import Farm, FarmAgent
from agent.farm.topology import NodePlan, Topology, TopologyError, grid, load_topology, read_topology

__all__ = [
    "Farm", "FarmAgent", "NodePlan", "Topology", "TopologyError",
    "grid", "load_topology", "main", "read_topology",
]
