"""What is particular to Dev Container Templates; the shared machinery (loading, layers, publishing) is
the features' (featurepub.features, featurepub.publishing), told apart by featurepub.kinds.

- config.py: the template's devcontainer.json, and the `type` it gives the template;
- enrich.py: the metadata the reference CLI computes at packaging (`type`, `files`, `fileCount`,
  `featureIds`, compacted `optionalPaths`);
- validate.py: the template rules, in the same three tiers as features;
- load.py: one template folder, read, checked and enriched;
- docs.py: the README.md the reference action's generate-docs writes for a template.
"""
