"""Where a publish goes: a registry or an OCI image layout, behind one protocol."""

from featurepub.targets.base import Target

__all__ = ["Target"]
