"""The OCI data model: media types, digests, descriptors and manifests. No I/O beyond files."""
