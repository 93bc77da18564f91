"""Interchange: the organization in and out of CSV files (import, its jobs, the export)."""
