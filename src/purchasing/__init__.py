"""Purchasing Live: live purchase tables for a poultry farm."""
