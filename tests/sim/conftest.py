from __future__ import annotations

import json
from pathlib import Path

import libyang
import pytest

YANG_DIR = Path(__file__).resolve().parents[2] / "yang"


@pytest.fixture(scope="session")
def yang_context() -> libyang.Context:
    ctx = libyang.Context(str(YANG_DIR))
    for name in ("ietf-inet-types", "ietf-yang-types", "ransdn-types", "ransdn-wifi", "ransdn-lte", "ransdn-sim"):
        ctx.load_module(name)
    return ctx


@pytest.fixture
def assert_valid_state(yang_context):
    """Check an operational-state tree against the modules, strictly."""

    def check(tree: dict) -> None:
        node = yang_context.parse_data_mem(json.dumps(tree), "json", strict=True, validate_present=True)
        assert node is not None
        node.free()

    return check
