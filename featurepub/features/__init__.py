"""Feature folders: load and validate metadata, package reproducible layers, build collection metadata."""
