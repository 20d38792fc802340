"""The municipality's signing policy, configured once at start-up (like the field keys)."""

from __future__ import annotations

from consent.rules import SigningPolicy

_policy = SigningPolicy()


def install_signing_policy(policy: SigningPolicy) -> None:
    global _policy
    _policy = policy


def signing_policy() -> SigningPolicy:
    return _policy
