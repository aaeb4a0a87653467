"""Simulated devices: one state machine (:mod:`.agent`), one device-side protocol per dialect,
failure plans, identities and transports. :class:`fake_api.sim.FleetSimulation` runs them.

A new vendor adds a :class:`~.protocol.DeviceProtocol` subclass in its own module and one line
in :data:`PROTOCOLS` (balena's register / target state / state report will be the next one).
"""

from __future__ import annotations

from .agent import PHASES, Agent
from .fl33t import Fl33tProtocol
from .identity import DeviceIdentity, MissingDependency, make_identities
from .memfault import MemfaultProtocol
from .plans import PROFILES, FailurePlan, Profile
from .protocol import DeviceProtocol, Offer, Outcome, PollReply, ServerError, UrlRefused
from .transport import HttpTransport, InProcessTransport, Reply, Transport, TransportError

#: dialect name -> its device-side protocol.
PROTOCOLS: dict[str, type[DeviceProtocol]] = {
    "fl33t": Fl33tProtocol,
    "memfault": MemfaultProtocol,
}

__all__ = [
    "PHASES", "PROFILES", "PROTOCOLS", "Agent", "DeviceIdentity", "DeviceProtocol",
    "FailurePlan", "Fl33tProtocol", "HttpTransport", "InProcessTransport", "MemfaultProtocol",
    "MissingDependency", "Offer", "Outcome", "PollReply", "Profile", "Reply", "ServerError",
    "Transport", "TransportError", "UrlRefused", "make_identities",
]
