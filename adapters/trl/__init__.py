"""TRL backend."""
