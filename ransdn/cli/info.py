"""``ransdn key`` and ``ransdn lte``: controller identity and the PLMN manager view."""

from __future__ import annotations

from typing import Any

from ransdn.cli.main import Context, add_command
from ransdn.cli.nodes import CELL_SLICE_COLUMNS, plmn_status
from ransdn.cli.output import table

#: One row per PLMN per cell (see :func:`cell_rows`).
LTE_ROW_COLUMNS = [
    ("CELL", lambda r: r["cell"]),
    ("PLMN", lambda r: plmn_status(r)),
    ("SLICE", lambda r: r["slice"]),
    ("IMSI ACL", lambda r: ",".join([*r["imsi_acl"]["imsis"], *(p + "*" for p in r["imsi_acl"]["prefixes"])])
        + f" (else {r['imsi_acl']['default_action']})"),
    ("UES", lambda r: r["attached_ues"]),
    ("ACCEPTED", lambda r: r["attach_accepted"]),
    ("REJECTED", lambda r: r["attach_rejected"]),
]


def cell_rows(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The PLMN manager's cells (``/api/v1/lte/cells``) flattened to one
    row per cell and PLMN, for :data:`LTE_ROW_COLUMNS`."""
    return [{**s, "cell": c["cell"]} for c in cells for s in c["slices"]]


def register(sub: Any) -> None:
    key = add_command(sub, "key", "print the controller's SSH public key (install it on nodes)")
    key.set_defaults(func=show_key)
    lte = add_command(sub, "lte", "LTE PLMN manager: every cell's PLMNs, ACLs, MMEs, S1 and UEs")
    lte.set_defaults(func=show_cells)


def show_key(ctx: Context) -> int:
    info = ctx.api.get("/api/v1/controller")
    ctx.out.show(info, lambda i: i["ssh_public_key"])
    return 0


def show_cells(ctx: Context) -> int:
    body = ctx.api.get("/api/v1/lte/cells")

    def render(b: dict[str, Any]) -> str:
        parts = []
        for c in b["items"]:
            parts.append(f"cell {c['cell']} ({c.get('connection')}): PLMNs "
                         f"{', '.join(c['plmns']) or '-'}; rejected attaches {c.get('rejected_attaches', 0)}")
            if c["slices"]:
                parts.append(table(c["slices"], CELL_SLICE_COLUMNS))
            parts.append("")
        return "\n".join(parts).rstrip() or "no LTE cells"
    ctx.out.show(body, render)
    return 0
