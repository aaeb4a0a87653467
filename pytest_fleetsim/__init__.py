"""fleetsim's pytest plugin. Importing this package imports nothing heavy.

The fixtures live in :mod:`pytest_fleetsim.plugin` (registered through the ``pytest11`` entry
point); the handle a test gets is :class:`pytest_fleetsim.cloud.FakeCloud`.
"""

__version__ = "0.1.0"
