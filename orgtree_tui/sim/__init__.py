"""A simulated AWS Organizations endpoint: moto's server with AWS's paging, AWS-like
throttling and latency.

Importing this package does not import moto; SimServer loads it when constructed.
"""

from orgtree_tui.sim.server import SimServer
from orgtree_tui.sim.strict import EMPTY_RATE, StrictPager
from orgtree_tui.sim.throttle import ADMIN_HEADER, Fault, FaultHook, SimStats, ThrottleMiddleware

__all__ = [
    "ADMIN_HEADER",
    "EMPTY_RATE",
    "Fault",
    "FaultHook",
    "SimServer",
    "SimStats",
    "StrictPager",
    "ThrottleMiddleware",
]
