"""featurepub/__init__.py: the public facade pins what it exports."""

from __future__ import annotations

import importlib
import importlib.util

import pytest

import featurepub

EXPECTED = [
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


def test_all_is_pinned() -> None:
    assert featurepub.__all__ == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_every_export_resolves(name: str) -> None:
    # Load every subpackage first, as any real use does: no subpackage may shadow an export
    # (a subpackage named `featurepub.publish` once replaced the `publish` function).
    importlib.import_module("featurepub.api")
    value = getattr(featurepub, name)
    if name == "__version__":
        assert isinstance(value, str)
    else:
        assert getattr(value, "__name__", None) == name
        assert not isinstance(value, type(featurepub)), f"featurepub.{name} is a module"


def test_lazy_lookup_gives_the_api_functions() -> None:
    api = importlib.import_module("featurepub.api")
    for name in ("publish", "load", "open_target"):
        assert getattr(featurepub, name) is getattr(api, name)
        assert callable(getattr(featurepub, name))


def test_exports_are_the_real_objects() -> None:
    from featurepub.errors import FeatureError
    from featurepub.features.collection import Collection
    from featurepub.reference import Reference

    assert featurepub.Reference is Reference
    assert featurepub.Collection is Collection
    assert featurepub.FeatureError is FeatureError
    assert issubclass(featurepub.AuthError, featurepub.RegistryError)
    assert issubclass(featurepub.FeatureError, featurepub.InputError)
    assert issubclass(featurepub.InputError, featurepub.FeaturepubError)


def test_version_matches_the_project() -> None:
    assert featurepub.__version__ == "0.1.0"


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from featurepub import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(EXPECTED)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        featurepub.nope  # noqa: B018


def test_importing_the_package_is_lazy() -> None:
    # `featurepub --help` stays fast: the registry client and httpx are not imported by the facade itself.
    source = importlib.util.find_spec("featurepub")
    assert source is not None
    assert source.origin is not None
    with open(source.origin, encoding="utf-8") as handle:
        text = handle.read()
    assert "import httpx" not in text
    assert "from featurepub." not in text
