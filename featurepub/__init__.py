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
    "validate": "featurepub.api",
    "package": "featurepub.api",
    "plan": "featurepub.api",
    "push_layout": "featurepub.api",
    "inspect": "featurepub.api",
    "list_tags": "featurepub.api",
    "generate_docs": "featurepub.api",
    "ValidationResult": "featurepub.features.packaging",
    "PackageResult": "featurepub.features.packaging",
    "LayoutPushReport": "featurepub.publishing.layout_push",
    "InspectResult": "featurepub.readback",
    "TagsResult": "featurepub.readback",
    "DocsResult": "featurepub.features.docs",
    "Collection": "featurepub.features.collection",
    "Feature": "featurepub.features.model",
    "PublishReport": "featurepub.publishing.report",
    "Status": "featurepub.publishing.report",
    "Reference": "featurepub.reference",
    "FeaturepubError": "featurepub.errors",
    "FeatureError": "featurepub.errors",
    "InputError": "featurepub.errors",
    "RegistryError": "featurepub.errors",
    "AuthError": "featurepub.errors",
    "CredentialError": "featurepub.errors",
    "Interrupted": "featurepub.errors",
    "Cancellation": "featurepub.cancel",
}

__all__ = [
    "AuthError",
    "Cancellation",
    "Collection",
    "CredentialError",
    "DocsResult",
    "Feature",
    "FeatureError",
    "FeaturepubError",
    "InputError",
    "InspectResult",
    "Interrupted",
    "LayoutPushReport",
    "PackageResult",
    "PublishReport",
    "Reference",
    "RegistryError",
    "Status",
    "TagsResult",
    "ValidationResult",
    "__version__",
    "generate_docs",
    "inspect",
    "list_tags",
    "load",
    "open_target",
    "package",
    "plan",
    "publish",
    "push_layout",
    "validate",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'featurepub' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
