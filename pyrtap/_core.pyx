# cython: language_level=3
"""pyrtap's hot paths: pool alloc/free, mbuf operations, burst loops and queue counters.

One extension module built from the ``core/*.pxi`` parts, so the burst loops can inline
the mbuf helpers. Nothing here knows about ports or drivers' set-up: that is Python.
"""
import errno
import os

import numpy as np
cimport numpy as cnp

from cpython.mem cimport PyMem_Malloc, PyMem_Calloc, PyMem_Free
from libc.errno cimport ENOENT, EINVAL, EOVERFLOW, EAGAIN, ENOMEM, EBADFD
from libc.stdlib cimport malloc, free
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, uintptr_t, int32_t
from libc.string cimport memset, memcpy

from includes.mbuf cimport *
from includes.uring cimport *
from includes.net cimport *

cnp.import_array()

include "core/mempool.pxi"
include "core/mbuf.pxi"
include "core/burst.pxi"
include "core/dynfield.pxi"
include "core/queues.pxi"
include "core/net.pxi"
include "core/uring_rxtx.pxi"
include "core/syscall_rxtx.pxi"

MBUF_METADATA_SIZE = sizeof(pyrtap_mbuf)
POOL_HEADER_SIZE = sizeof(pyrtap_pool_hdr)
