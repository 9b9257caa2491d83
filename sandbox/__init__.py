"""Test sandbox utilities (emulated external services)."""
