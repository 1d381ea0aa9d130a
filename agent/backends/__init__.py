"""Backends apply committed configuration to the world and report its state."""
