"""Offices (Kanim): quotas, service windows, closures and their calendar."""
