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


@pytest.fixture(autouse=True)
def _indexes_agree_with_tables(request):
    """After every test that used the fake, each backend's indexes must equal a plain scan of
    its tables: a code path that writes a record without telling the index fails here."""
    yield
    handle = request.node.funcargs.get("fleetsim")
    if handle is None:
        return
    for name, backend in handle.cloud.backends.items():
        check = getattr(backend, "index_problems", None)
        if check is not None:
            with handle.cloud.store.lock:
                problems = check()
            assert not problems, f"{name} indexes disagree with the tables: {problems[:5]}"
