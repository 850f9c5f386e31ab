"""featurepub: publish Dev Container Features and Templates to OCI registries.

The library API release scripts import; the `featurepub` command is a thin layer over it.
Attributes load lazily so that importing the package (and `featurepub --help`) stays fast,
and type checkers see the real objects through the imports below, which never run.
"""

from __future__ import annotations

# mypy and pyright treat a variable named TYPE_CHECKING as true; at run time it is false, and
# defining it here rather than importing typing.TYPE_CHECKING keeps `typing` out of `import featurepub`.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from featurepub.api import (
        generate_docs,
        inspect,
        list_tags,
        load,
        open_target,
        package,
        plan,
        publish,
        push_layout,
        validate,
    )
    from featurepub.cancel import Cancellation
    from featurepub.errors import (
        AuthError,
        CredentialError,
        FeatureError,
        FeaturepubError,
        InputError,
        Interrupted,
        RegistryError,
    )
    from featurepub.features.collection import Collection
    from featurepub.features.docs import DocsResult
    from featurepub.features.model import Feature
    from featurepub.features.packaging import PackageResult, ValidationResult
    from featurepub.publishing.layout_push import LayoutPushReport
    from featurepub.publishing.report import PublishReport, Status
    from featurepub.readback.results import InspectResult, TagsResult
    from featurepub.reference import Reference

__version__ = "0.1.0"

# Where each name lives; the same modules as the imports above (tests/unit/test_package.py checks).
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
    "InspectResult": "featurepub.readback.results",
    "TagsResult": "featurepub.readback.results",
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


if not TYPE_CHECKING:  # for a checker, a module __getattr__ would make every misspelt name an Any

    def __getattr__(name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'featurepub' has no attribute {name!r}")
        import importlib

        return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
