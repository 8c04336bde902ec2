"""OpenRLHF backend."""
