"""Acme Cloud Storage's support assistant."""
