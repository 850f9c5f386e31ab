"""The collection document a run pushes as `<namespace>:latest`, given the one that is there.

A whole collection folder publishes exactly its own set. A run over part of a collection (one
feature folder, or a chosen subset) must not drop the others from `latest`: its entries replace
those with the same id in the collection that is there, every other entry is kept as it was, and
the result is in id order, as a whole collection's is. Two documents that list the same entries
(whatever their `sourceInformation` says, and in whatever order) describe the same collection, so
one another tool wrote need not be replaced.

The list's key is whatever the documents use ("features" for features, "templates" for
templates): this module does not need to know the kind.
"""

from __future__ import annotations

from typing import Any

from featurepub.oci.document import load_object
from featurepub.oci.jsjson import js_dumps
from featurepub.publishing.content_equality import same_json

_SOURCE_KEY = "sourceInformation"


class UnreadableCollection(ValueError):
    """The document that is there is not a collection whose entries can be kept."""


def _entries(document: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(list key, entries by the order given) of a collection document."""
    keys = [k for k, v in document.items() if k != _SOURCE_KEY and isinstance(v, list)]
    if len(keys) != 1:
        raise UnreadableCollection("it holds no list of features (or templates)")
    entries = document[keys[0]]
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise UnreadableCollection(f"its {keys[0]} list holds an entry without an id")
    return keys[0], entries


def _by_id(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(e["id"]): e for e in entries}


def merge_collection(existing: dict[str, Any], ours: bytes) -> bytes:
    """`ours` (a document of this run's entries) with every entry of `existing` it does not replace,
    in id order; raises UnreadableCollection when `existing` cannot be merged into."""
    document = load_object(ours, "the collection")
    key, mine = _entries(document)
    their_key, theirs = _entries(existing)
    if their_key != key:
        raise UnreadableCollection(f"it lists {their_key}, not {key}")
    merged = {**_by_id(theirs), **_by_id(mine)}
    document[key] = [merged[i] for i in sorted(merged)]
    return js_dumps(document, indent=4).encode("utf-8")


def same_entries(existing: dict[str, Any] | None, ours: bytes) -> bool:
    """Whether `existing` lists exactly the entries of `ours` (order and `sourceInformation` aside)."""
    if existing is None:
        return False
    try:
        key, mine = _entries(load_object(ours, "the collection"))
        their_key, theirs = _entries(existing)
    except (UnreadableCollection, ValueError):
        return False
    a, b = _by_id(mine), _by_id(theirs)
    return key == their_key and len(a) == len(mine) and len(b) == len(theirs) and same_json(a, b)
