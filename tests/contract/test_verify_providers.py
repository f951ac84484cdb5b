"""Provider verification: each provider, started for real, keeps every contract its consumers wrote."""

from __future__ import annotations

import pytest

from tests.contract.providers import PROVIDERS, pacts_for, verify


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_provider_keeps_its_consumers_contracts(providers, provider):
    pacts = pacts_for(provider)
    assert pacts, f"no pact names {provider} as its provider"

    verification = verify(providers, provider, pacts)

    assert verification.passed, verification.output
