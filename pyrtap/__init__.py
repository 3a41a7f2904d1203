"""pyrtap: DPDK's ethdev programming model over Linux TAP interfaces.

The whole public API is importable from here (``import pyrtap as rte``);
docs/api.md is its reference.
"""
from .mbuf import *  # noqa: F401,F403
from .mbuf import Mbuf, MbufBurst  # noqa: F401
from .mempool import *  # noqa: F401,F403
from .mempool import Mempool, rte_errno  # noqa: F401

try:  # one version: pyproject.toml's, as installed
    from importlib.metadata import PackageNotFoundError, version as _version
    __version__ = _version("pyrtap")
except PackageNotFoundError:  # pragma: no cover - running from a tree that is not installed
    __version__ = "0+unknown"
from .ethdev_api import *  # noqa: F401,F403,E402
from .net import *  # noqa: F401,F403,E402
from .eal import (rte_dev_probe, rte_dev_remove, rte_eal_cleanup, rte_eal_init,  # noqa: F401,E402
                  rte_eal_process_type, rte_exit, rte_panic)
from .lcore import *  # noqa: F401,F403,E402
from .mbuf_dyn import *  # noqa: F401,F403,E402
from .cycles import *  # noqa: F401,F403,E402
from .txbuffer import *  # noqa: F401,F403,E402
from .rtelog import *  # noqa: F401,F403,E402
from .port import Port, PortError  # noqa: F401,E402
