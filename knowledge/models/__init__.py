"""Forecast model registry and prediction ledger tables."""
