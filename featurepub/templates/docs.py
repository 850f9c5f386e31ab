"""A template's README.md, with the parts the reference action's generate-docs gives a template
(devcontainers/action src/generateDocs.ts): the title `name (id)`, the description, the options
table, the folder's hand-written NOTES.md and the "auto-generated" footer. There is no usage snippet:
a template is applied by a tool, not referenced from devcontainer.json. The options table is the
features' (featurepub.features.docs), which adds each option's enum values to its description.
"""

from __future__ import annotations

from featurepub.features.docs import options_table, page_end
from featurepub.features.model import Feature


def render_readme(template: Feature, *, notes: str | None = None) -> str:
    """The README.md text for one template."""
    metadata = template.metadata
    name = metadata.get("name")
    title = f"{name} ({template.id})" if name else template.id
    description = str(metadata.get("description") or "")
    parts = [
        f"# {title}\n",
        f"{description}\n" if description else "",
        options_table(metadata.get("options")),
        *page_end(template.kind.metadata_file, notes),
    ]
    return "\n".join(part for part in parts if part)
