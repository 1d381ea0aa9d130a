"""Where the test bed finds the checkout and keeps its cache."""

from __future__ import annotations

from pathlib import Path

#: The root of the checkout (the directory holding ``pyproject.toml``).
REPO_ROOT = Path(__file__).resolve().parents[2]

#: Git-ignored cache of generated guest artefacts (vmlinux, initramfs).
CACHE_DIR = REPO_ROOT / "testbed" / ".cache"
