"""Turning a PairingResult into files people read: CSV exports, the JSON summary, per-school reports."""
