"""Reading back what a registry holds, for `inspect` and `tags` (no module here writes).

- `manifests`: parse a reference, fetch a manifest defensively, resolve an index to one platform;
- `metadata`: a feature's or template's metadata, from the annotation or from inside the layer;
- `inspection`: `inspect`, which puts those together and says whether the reference CLI can use it;
- `tags`: `list_tags` and the order people read tags in;
- `results`: the result types (`InspectResult`, `TagsResult`) and `NotFoundError`.

Nothing here prints; results are data. Submodules load on use, so `featurepub --help` pays for none.
"""
