"""Waive materials the city already holds: catalog, evidence, decisions, API."""
