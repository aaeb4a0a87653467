"""fleetsim's fake cloud: an in-process emulator of the balena, fl33t and Memfault APIs.

``fake_api.app.create_app(cloud)`` builds the Flask app; ``fake_api.core`` holds the
vendor-neutral machinery. Importing this package imports no Flask.
"""

__version__ = "0.1.0"
