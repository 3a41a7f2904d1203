"""pyrtap: DPDK's ethdev programming model over Linux TAP interfaces.

The whole public API is importable from here (``import pyrtap as rte``);
docs/api.md is its reference.
"""
# Every star-imported module has an explicit __all__ (tests/test_docs.py checks that
# nothing else, such as a module's own imports, reaches this namespace).
import importlib.metadata as _metadata

from .mbuf import *
from .mbuf import Mbuf, MbufBurst
from .mempool import *
from .mempool import Mempool, rte_errno
from .ethdev_api import *
from .net import *
from .eal import (rte_dev_probe, rte_dev_remove, rte_eal_cleanup, rte_eal_init, rte_eal_process_type,
                  rte_exit, rte_panic)
from .lcore import *
from .mbuf_dyn import *
from .cycles import *
from .txbuffer import *
from .rtelog import *
from .port import Port, PortError

try:  # one version: pyproject.toml's, as installed
    __version__ = _metadata.version("pyrtap")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a tree that is not installed
    __version__ = "0+unknown"
