"""Where registry credentials come from: a chain of sources, first match wins."""

from featurepub.credentials.chain import CredentialChain, default_chain
from featurepub.credentials.types import Credential

__all__ = ["Credential", "CredentialChain", "default_chain"]
