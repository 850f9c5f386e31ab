"""featurepub: publish Dev Container Features to OCI registries.

The library API release scripts import; the `featurepub` command is a thin layer over it.
Attributes load lazily so that importing the package (and `featurepub --help`) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load": "featurepub.api",
    "publish": "featurepub.api",
    "open_target": "featurepub.api",
    "Collection": "featurepub.features.collection",
    "Feature": "featurepub.features.model",
    "PublishReport": "featurepub.publish.report",
    "Status": "featurepub.publish.report",
    "Reference": "featurepub.reference",
    "FeaturepubError": "featurepub.errors",
    "FeatureError": "featurepub.errors",
    "InputError": "featurepub.errors",
    "RegistryError": "featurepub.errors",
    "AuthError": "featurepub.errors",
}

__all__ = [
    "AuthError",
    "Collection",
    "Feature",
    "FeatureError",
    "FeaturepubError",
    "InputError",
    "PublishReport",
    "Reference",
    "RegistryError",
    "Status",
    "__version__",
    "load",
    "open_target",
    "publish",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'featurepub' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
