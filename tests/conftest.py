"""Shared helpers for fleetsim's own tests (the fixtures come from the plugin itself)."""

import pytest


@pytest.fixture
def app():
    """A fresh app on its own cloud, for tests that need one outside the plugin's session fake."""
    from fake_api.app import create_app

    return create_app()


@pytest.fixture
def client(app):
    return app.test_client()
