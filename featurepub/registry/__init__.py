"""Talking to an OCI distribution registry: endpoints, auth, uploads, errors on the wire."""
