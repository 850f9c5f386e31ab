"""Media types featurepub writes or must understand when reading."""

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"

# Every manifest kind a tag may point at; registries that hold OCI content refuse a
# Docker-only Accept header, and distribution 2.8 answers MANIFEST_UNKNOWN without it.
MANIFEST_ACCEPT = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST])
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})

# Dev Containers artifacts. The reference CLI's reader rejects any config media type
# other than this one, so it also serves as the artifactType (valid OCI 1.1).
DEVCONTAINERS_CONFIG = "application/vnd.devcontainers"
DEVCONTAINERS_ARTIFACT = DEVCONTAINERS_CONFIG
FEATURE_LAYER = "application/vnd.devcontainers.layer.v1+tar"
COLLECTION_LAYER = "application/vnd.devcontainers.collection.layer.v1+json"

ANNOTATION_TITLE = "org.opencontainers.image.title"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
ANNOTATION_METADATA = "dev.containers.metadata"
ANNOTATION_GITHUB_PACKAGE_TYPE = "com.github.package.type"
