"""Metrics, one per module (Quantus style)."""
