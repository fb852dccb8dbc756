"""Casset Visual Pairing: the domain package every function's CodeUri carries."""
