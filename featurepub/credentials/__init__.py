"""Where registry credentials come from: a chain of sources, first match wins."""

from featurepub.credentials.chain import Credential, CredentialChain, default_chain

__all__ = ["Credential", "CredentialChain", "default_chain"]
