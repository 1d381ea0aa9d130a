"""The agent farm: many sim agents in one process for test beds and benchmarks."""

from agent.farm.cli import main
from agent.farm.farm import Farm, FarmAgent
from agent.farm.topology import NodePlan, TopologyError, grid, load_topology

__all__ = ["Farm", "FarmAgent", "NodePlan", "TopologyError", "grid", "load_topology", "main"]
