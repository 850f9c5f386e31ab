"""Hypothesis strategies for what a hostile registry can put in a JSON answer: manifests, indexes,
tag lists, catalogs, token and error bodies, shaped like the real thing but with any field of any
type (numbers too big to be integers, Infinity, strings where objects belong, digests that name
paths), plus arbitrary JSON."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

_SHA = "sha256:" + "a" * 64

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),  # Infinity is written as JSON's `Infinity`, which Python reads back
    st.sampled_from([1e999, -1e999, 0.5, 1e20]),
    st.text(max_size=20),
    st.sampled_from(["²", "sha256:../../etc/passwd", "", "latest", "1.0.0", _SHA]),
)
any_json = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
digests = st.one_of(st.just(_SHA), st.sampled_from(["sha256:../x", "sha256:" + "A" * 64, "md5:abc", ""]), any_json)
sizes = st.one_of(st.integers(min_value=-5, max_value=2**64), st.sampled_from([1e999, 2.5, "12", True]), any_json)
annotation_values = st.one_of(
    st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8), any_json), max_size=3),
    st.lists(st.text(max_size=5), max_size=3),
    st.text(max_size=10),
    any_json,
)
platforms = st.one_of(
    st.fixed_dictionaries({}, optional={"os": any_json, "architecture": any_json, "variant": any_json}), any_json
)


def _descriptor(extra: dict[str, Any]) -> st.SearchStrategy[Any]:
    optional = {"mediaType": any_json, "digest": digests, "size": sizes, "annotations": annotation_values, **extra}
    return st.one_of(st.fixed_dictionaries({}, optional=optional), any_json)


descriptors = _descriptor({})
index_entries = _descriptor({"platform": platforms})
media_types = st.one_of(
    st.sampled_from(
        [
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ]
    ),
    any_json,
)
manifests = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "schemaVersion": any_json,
            "mediaType": media_types,
            "artifactType": any_json,
            "config": descriptors,
            "layers": st.one_of(st.lists(descriptors, max_size=3), any_json),
            "manifests": st.one_of(st.lists(index_entries, max_size=3), any_json),
            "annotations": annotation_values,
        },
    ),
    any_json,
)
tag_lists = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "name": any_json,
            "tags": st.one_of(st.lists(st.one_of(scalars, any_json), max_size=6), any_json),
        },
    ),
    any_json,
)
catalogs = st.one_of(
    st.fixed_dictionaries({}, optional={"repositories": st.one_of(st.lists(any_json, max_size=5), any_json)}),
    any_json,
)
tokens = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "token": st.one_of(st.text(min_size=1, max_size=10), any_json),
            "access_token": any_json,
            "expires_in": sizes,
            "refresh_token": any_json,
        },
    ),
    any_json,
)
error_bodies = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "errors": st.one_of(
                st.lists(
                    st.fixed_dictionaries(
                        {}, optional={"code": any_json, "message": any_json, "detail": any_json}
                    ),
                    max_size=3,
                ),
                any_json,
            )
        },
    ),
    any_json,
)


def encoded(value: Any) -> bytes:
    """JSON as a server would send it (Python's `Infinity` spelling included)."""
    return json.dumps(value).encode()
