# Linux interfaces of the TAP data path other than liburing's API: the virtio-net
# header a TAP queue carries before each frame, eventfd (Rx interrupts), system calls
# liburing 2.3 does not wrap, the io_uring opcodes that liburing's header may lack
# (pyrtap_linux.h checks them) and thread ids as the kernel knows them.
from libc.stdint cimport uint8_t, uint16_t

cdef extern from "<linux/if_ether.h>" nogil:
    enum:
        ETH_HLEN               # Ethernet header: the shortest frame a read may return

cdef extern from "<linux/virtio_net.h>" nogil:
    struct virtio_net_hdr:
        uint8_t flags
        uint8_t gso_type
        uint16_t hdr_len
        uint16_t gso_size
        uint16_t csum_start
        uint16_t csum_offset
    enum:
        VIRTIO_NET_HDR_F_NEEDS_CSUM
        VIRTIO_NET_HDR_F_DATA_VALID
        VIRTIO_NET_HDR_GSO_NONE
        VIRTIO_NET_HDR_GSO_TCPV4
        VIRTIO_NET_HDR_GSO_TCPV6
        VIRTIO_NET_HDR_GSO_UDP_L4
        VIRTIO_NET_HDR_GSO_ECN

cdef extern from "<linux/if_tun.h>" nogil:
    # drivers/tapdev.py's ioctls and flags, exported by _core as TUN_CONSTANTS so that
    # the kernel's header is their only definition
    enum:
        TUNSETIFF
        TUNGETIFF
        TUNGETDEVNETNS
        TUNSETPERSIST
        TUNSETOFFLOAD
        TUNSETVNETHDRSZ
        TUNSETQUEUE
        TUNSETOWNER
        TUNSETGROUP
        IFF_TAP
        IFF_NO_PI
        IFF_MULTI_QUEUE
        IFF_VNET_HDR
        IFF_ATTACH_QUEUE
        IFF_DETACH_QUEUE
        TUN_F_CSUM
        TUN_F_TSO4
        TUN_F_TSO6
        TUN_F_TSO_ECN

cdef extern from "<sys/syscall.h>" nogil:
    # liburing 2.3 declares io_uring_enable_rings but its shared library does not export
    # it: net_rtap enables a ring with syscall() (uring_enable).
    long SYS_io_uring_register

cdef extern from "<sys/eventfd.h>" nogil:
    int eventfd(unsigned int initval, int flags)
    enum:
        EFD_CLOEXEC
        EFD_NONBLOCK

cdef extern from "pyrtap_linux.h" nogil:
    enum:
        VNET_HDR_LEN               # sizeof(struct virtio_net_hdr), what TUNSETVNETHDRSZ sets
        IORING_OP_READ_MULTISHOT   # kernel >= 6.7; liburing < 2.5 does not name it
    int pyrtap_tid()               # the calling thread's kernel id (gettid), cached per thread
