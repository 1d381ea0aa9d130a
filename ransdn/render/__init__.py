"""From slice intents to per-node YANG configuration, and from the
difference between desired and running configuration to an edit-config.

Pure functions: no I/O, deterministic output for the same input.
"""

from ransdn.render.desired import DesiredConfig, render_all, render_node, vif_name
from ransdn.render.edit import NodeDiff, diff_node

__all__ = ["DesiredConfig", "NodeDiff", "diff_node", "render_all", "render_node", "vif_name"]
