"""featurepub.publishing.collection_merge: a partial publish keeps the rest of the collection."""

from __future__ import annotations

import json
from typing import Any

import pytest

from featurepub.publishing.collection_merge import UnreadableCollection, merge_collection, same_entries


def document(*entries: dict[str, Any], source: str = "featurepub", key: str = "features") -> dict[str, Any]:
    return {"sourceInformation": {"source": source}, key: list(entries)}


def encoded(value: dict[str, Any]) -> bytes:
    return json.dumps(value, indent=4).encode()


def test_entries_are_replaced_by_id_and_the_others_kept_in_id_order() -> None:
    there = document(
        {"id": "zsh", "version": "1.0.0", "name": "Zsh", "extra": [1, {"kept": True}]},
        {"id": "node", "version": "1.0.0"},
        {"id": "azure", "version": "3.0.0"},
        source="devcontainer-cli",
    )
    ours = encoded(document({"id": "node", "version": "1.1.0"}, {"id": "go", "version": "0.1.0"}))
    merged = json.loads(merge_collection(there, ours))
    assert [(e["id"], e["version"]) for e in merged["features"]] == [
        ("azure", "3.0.0"),
        ("go", "0.1.0"),
        ("node", "1.1.0"),
        ("zsh", "1.0.0"),
    ]
    assert merged["features"][3] == there["features"][0]  # kept as it was
    assert merged["sourceInformation"] == {"source": "featurepub"}
    assert merge_collection(there, ours) == merge_collection(there, ours)  # deterministic


def test_templates_merge_the_same_way() -> None:
    there = document({"id": "a", "version": "1.0.0"}, key="templates")
    merged = json.loads(
        merge_collection(there, encoded(document({"id": "b", "version": "1.0.0"}, key="templates")))
    )
    assert [e["id"] for e in merged["templates"]] == ["a", "b"]


@pytest.mark.parametrize(
    "there",
    [
        {"sourceInformation": {}},
        {"features": [{"version": "1.0.0"}]},
        {"features": ["node"]},
        document({"id": "a", "version": "1.0.0"}, key="templates"),  # templates where features go
    ],
)
def test_a_collection_that_cannot_be_merged_into_is_said(there: dict[str, Any]) -> None:
    with pytest.raises(UnreadableCollection):
        merge_collection(there, encoded(document({"id": "b", "version": "1.0.0"})))


def test_the_same_entries_whoever_wrote_them() -> None:
    ours = encoded(document({"id": "b", "version": "1.0.0", "n": 1}, {"id": "a", "version": "2.0.0"}))
    assert same_entries(
        document({"id": "a", "version": "2.0.0"}, {"id": "b", "n": 1.0, "version": "1.0.0"}, source="x"), ours
    )
    assert not same_entries(document({"id": "a", "version": "2.0.0"}), ours)
    assert not same_entries(
        document({"id": "a", "version": "2.0.0"}, {"id": "b", "version": "1.0.1", "n": 1}), ours
    )
    assert not same_entries(None, ours)
    assert not same_entries({"features": "nope"}, ours)
    doubled = document(
        {"id": "a", "version": "2.0.0"}, {"id": "a", "version": "2.0.0"}, {"id": "b", "n": 1, "version": "1.0.0"}
    )
    assert not same_entries(doubled, ours)
