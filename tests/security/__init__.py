"""Attacks on the gallery, each asserting that it fails and that it changed nothing (SECURITY.md lists them)."""
