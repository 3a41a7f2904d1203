# cython: language_level=3
"""pyrtap's hot paths: pool alloc/free, mbuf operations, burst loops and queue counters.

One extension module built from the ``core/*.pxi`` parts, so the burst loops can inline
the mbuf helpers. Nothing here knows about ports or drivers' set-up: that is Python.
"""
import os

import numpy as np
cimport numpy as cnp

from cpython.buffer cimport PyBuffer_FillInfo
from cpython.mem cimport PyMem_Malloc, PyMem_Calloc, PyMem_Free
from libc.errno cimport (errno, ENOENT, EINVAL, EOVERFLOW, EAGAIN, ENOMEM, EBADFD, ENOBUFS, ENODEV,
                         EINTR)
from libc.stdlib cimport malloc, free
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, uintptr_t, int32_t
from libc.string cimport memset, memcpy
from posix.fcntl cimport O_CLOEXEC
from posix.mman cimport (mmap, munmap, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE,
                         MAP_ANONYMOUS, MAP_POPULATE, MAP_FAILED)
from posix.uio cimport iovec, readv, writev, RWF_NOWAIT
from posix.unistd cimport read, write, close

# Every C declaration is in includes/, one .pxd per library or header.
from includes.posix cimport *
from includes.linux cimport *
from includes.liburing cimport *
from includes.ethdev_fp cimport *
from includes.mbuf cimport *
from includes.net cimport *

cnp.import_array()

# The parts, in an order where each struct, ctypedef and class comes before the parts
# that declare something of its type. Functions, enum constants and module variables of
# a later part may be used earlier: Cython declares the whole module before it compiles
# any code. Each part's header says what it takes from the others.
#   mempool.pxi     pool memory, alloc/free (Mempool, free_batch)
#   mbuf.pxi        Mbuf handles, chain walks, rte_pktmbuf_*
#   burst.pxi       MbufBurst, the bulk alloc/free calls
#   dynfield.pxi    dynamic fields and private areas
#   queue.pxi       Queue / RxQueue / TxQueue, qstats and xstats
#   ethdev_fp.pxi   fast-path table, rte_eth_rx/tx_burst, callbacks
#   net.pxi         parsing, checksums, rte_eth_tx_prepare (net_hdr_lens)
#   vnet_rxtx.pxi   per-packet Rx/Tx steps both drivers share (tx_undo)
#   rtap_rxtx.pxi   net_rtap: io_uring
#   tap_rxtx.pxi    net_tap: read()/write()
# (Nothing follows the file name on an include line: cython-lint takes its last word.)
include "core/mempool.pxi"
include "core/mbuf.pxi"
include "core/burst.pxi"
include "core/dynfield.pxi"
include "core/queue.pxi"
include "core/ethdev_fp.pxi"
include "core/net.pxi"
include "core/vnet_rxtx.pxi"
include "core/rtap_rxtx.pxi"
include "core/tap_rxtx.pxi"

# The C definitions of these facts, for the Python modules to import (one source of truth).
C_LIMITS = {"RTE_MAX_ETHPORTS": RTE_MAX_ETHPORTS, "RTE_MAX_QUEUES_PER_PORT": RTE_MAX_QUEUES_PER_PORT,
            "VNET_HDR_LEN": VNET_HDR_LEN, "RTE_PKTMBUF_HEADROOM": RTE_PKTMBUF_HEADROOM,
            "RX_MAX_SEGS": RX_MAX_SEGS, "IOV_MAX_SEGS": IOV_MAX_SEGS}

# <linux/if_tun.h>'s ioctls and flags for drivers/tapdev.py: one definition, the kernel's.
TUN_CONSTANTS = {
    "TUNSETIFF": TUNSETIFF, "TUNGETIFF": TUNGETIFF, "TUNGETDEVNETNS": TUNGETDEVNETNS,
    "TUNSETPERSIST": TUNSETPERSIST, "TUNSETOFFLOAD": TUNSETOFFLOAD,
    "TUNSETVNETHDRSZ": TUNSETVNETHDRSZ, "TUNSETQUEUE": TUNSETQUEUE,
    "TUNSETOWNER": TUNSETOWNER, "TUNSETGROUP": TUNSETGROUP,
    "IFF_TAP": IFF_TAP, "IFF_NO_PI": IFF_NO_PI, "IFF_MULTI_QUEUE": IFF_MULTI_QUEUE,
    "IFF_VNET_HDR": IFF_VNET_HDR, "IFF_ATTACH_QUEUE": IFF_ATTACH_QUEUE,
    "IFF_DETACH_QUEUE": IFF_DETACH_QUEUE,
    "TUN_F_CSUM": TUN_F_CSUM, "TUN_F_TSO4": TUN_F_TSO4, "TUN_F_TSO6": TUN_F_TSO6,
    "TUN_F_TSO_ECN": TUN_F_TSO_ECN,
}

MBUF_METADATA_SIZE = sizeof(pyrtap_mbuf)

cdef pyrtap_mbuf _layout_probe


cdef tuple _field(str name, void *field, size_t size):
    return (name, <size_t>(<char *>field - <char *>&_layout_probe), size)


# The layout of struct pyrtap_mbuf as the C compiler laid it out: (field, offset, size).
# mempool.MBUF_DTYPE is built from it, so numpy's view of the metadata cannot drift from C.
MBUF_LAYOUT = (
    _field("ol_flags", &_layout_probe.ol_flags, sizeof(_layout_probe.ol_flags)),
    _field("next", &_layout_probe.next, sizeof(_layout_probe.next)),
    _field("attached", &_layout_probe.attached, sizeof(_layout_probe.attached)),
    _field("pkt_len", &_layout_probe.pkt_len, sizeof(_layout_probe.pkt_len)),
    _field("packet_type", &_layout_probe.packet_type, sizeof(_layout_probe.packet_type)),
    _field("idx", &_layout_probe.idx, sizeof(_layout_probe.idx)),
    _field("pool_id", &_layout_probe.pool_id, sizeof(_layout_probe.pool_id)),
    _field("data_off", &_layout_probe.data_off, sizeof(_layout_probe.data_off)),
    _field("data_len", &_layout_probe.data_len, sizeof(_layout_probe.data_len)),
    _field("nb_segs", &_layout_probe.nb_segs, sizeof(_layout_probe.nb_segs)),
    _field("refcnt", &_layout_probe.refcnt, sizeof(_layout_probe.refcnt)),
    _field("port", &_layout_probe.port, sizeof(_layout_probe.port)),
    _field("buf_len", &_layout_probe.buf_len, sizeof(_layout_probe.buf_len)),
    _field("tso_segsz", &_layout_probe.tso_segsz, sizeof(_layout_probe.tso_segsz)),
    _field("l2_len", &_layout_probe.l2_len, sizeof(_layout_probe.l2_len)),
    _field("l3_len", &_layout_probe.l3_len, sizeof(_layout_probe.l3_len)),
    _field("l4_len", &_layout_probe.l4_len, sizeof(_layout_probe.l4_len)),
    _field("outer_l2_len", &_layout_probe.outer_l2_len, sizeof(_layout_probe.outer_l2_len)),
    _field("outer_l3_len", &_layout_probe.outer_l3_len, sizeof(_layout_probe.outer_l3_len)),
    _field("state", &_layout_probe.state, sizeof(_layout_probe.state)),
)
POOL_HEADER_SIZE = sizeof(pyrtap_pool_hdr)
