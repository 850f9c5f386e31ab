"""featurepub/__init__.py: the public facade pins what it exports."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

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
    misspelt = "nope"  # through getattr: a checker rejects `featurepub.nope`, as it should
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        getattr(featurepub, misspelt)


def test_importing_the_package_imports_nothing_else() -> None:
    # `featurepub --help` and a script's `import featurepub` stay fast: the facade loads its names on first use.
    probe = "import sys; before = set(sys.modules); import featurepub; print(sorted(set(sys.modules) - before))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(ast.literal_eval(done.stdout))
    assert "featurepub" in loaded
    assert loaded <= {"featurepub", "__future__"}  # no submodule, no httpx, not even `typing`


def checker_imports() -> dict[str, str]:
    """The names featurepub/__init__.py imports for type checkers only, and the module of each."""
    tree = ast.parse(Path(featurepub.__file__).read_text(encoding="utf-8"))
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1
    return {
        alias.name: statement.module or ""
        for statement in blocks[0].body
        if isinstance(statement, ast.ImportFrom) and statement.module != "typing"
        for alias in statement.names
    }


def test_type_checkers_see_the_same_names_as_run_time() -> None:
    # The imports type checkers read and the table the lazy lookup uses must name the same objects.
    assert checker_imports() == featurepub._EXPORTS
    assert set(featurepub._EXPORTS) == set(EXPECTED) - {"__version__"}


def test_py_typed_ships_with_the_package() -> None:
    # PEP 561: without this marker a user's type checker ignores the package's annotations.
    assert (Path(featurepub.__file__).parent / "py.typed").is_file()


def test_dir_lists_the_lazy_names() -> None:
    assert set(EXPECTED) <= set(dir(featurepub))
