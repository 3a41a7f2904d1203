# liburing (>= 2.3) and kernel header declarations used by the io_uring data path.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int32_t

cdef extern from "<sys/uio.h>" nogil:
    struct iovec:
        void *iov_base
        size_t iov_len

cdef extern from "<linux/time_types.h>" nogil:
    struct __kernel_timespec:
        long long tv_sec
        long long tv_nsec

cdef extern from "<liburing.h>" nogil:
    struct io_uring_sqe:
        uint8_t opcode
        uint8_t flags
        uint16_t ioprio
        int32_t fd
        uint64_t off
        uint64_t addr
        uint32_t len
        uint32_t rw_flags
        uint64_t user_data
        uint16_t buf_group

    struct io_uring_cqe:
        uint64_t user_data
        int32_t res
        uint32_t flags

    struct io_uring_params:
        uint32_t sq_entries
        uint32_t cq_entries
        uint32_t flags
        uint32_t sq_thread_cpu
        uint32_t sq_thread_idle
        uint32_t features
        uint32_t wq_fd

    struct io_uring:
        unsigned flags
        int ring_fd

    struct io_uring_buf_ring:
        pass

    struct io_uring_buf_reg:
        uint64_t ring_addr
        uint32_t ring_entries
        uint16_t bgid

    enum:
        IORING_SETUP_SQPOLL
        IORING_SETUP_ATTACH_WQ
        IORING_SETUP_COOP_TASKRUN
        IORING_SETUP_SINGLE_ISSUER
        IORING_SETUP_DEFER_TASKRUN
        IORING_SETUP_SUBMIT_ALL
        IORING_SETUP_R_DISABLED
        IORING_REGISTER_ENABLE_RINGS
        IORING_SETUP_CQSIZE
        IORING_ASYNC_CANCEL_ALL
        IORING_ASYNC_CANCEL_ANY
        IORING_CQE_F_BUFFER
        IORING_CQE_F_MORE
        IORING_CQE_BUFFER_SHIFT
        IOSQE_BUFFER_SELECT
        IOSQE_FIXED_FILE

    int io_uring_queue_init_params(unsigned entries, io_uring *ring, io_uring_params *p)
    void io_uring_queue_exit(io_uring *ring)
    io_uring_sqe *io_uring_get_sqe(io_uring *ring)
    int io_uring_submit(io_uring *ring)
    int io_uring_submit_and_wait(io_uring *ring, unsigned wait_nr)
    int io_uring_submit_and_get_events(io_uring *ring)
    int io_uring_get_events(io_uring *ring)
    unsigned io_uring_peek_batch_cqe(io_uring *ring, io_uring_cqe **cqes, unsigned count)
    int io_uring_wait_cqe_timeout(io_uring *ring, io_uring_cqe **cqe_ptr, __kernel_timespec *ts)
    void io_uring_cq_advance(io_uring *ring, unsigned nr)
    void io_uring_cqe_seen(io_uring *ring, io_uring_cqe *cqe)
    unsigned io_uring_sq_space_left(const io_uring *ring)
    unsigned io_uring_cq_ready(const io_uring *ring)
    void io_uring_sqe_set_data64(io_uring_sqe *sqe, uint64_t data)
    void io_uring_sqe_set_flags(io_uring_sqe *sqe, unsigned flags)
    void io_uring_prep_read(io_uring_sqe *sqe, int fd, void *buf, unsigned nbytes, uint64_t offset)
    void io_uring_prep_readv(io_uring_sqe *sqe, int fd, const iovec *iovecs, unsigned nr_vecs, uint64_t offset)
    void io_uring_prep_write(io_uring_sqe *sqe, int fd, const void *buf, unsigned nbytes, uint64_t offset)
    void io_uring_prep_writev(io_uring_sqe *sqe, int fd, const iovec *iovecs, unsigned nr_vecs, uint64_t offset)
    void io_uring_prep_cancel64(io_uring_sqe *sqe, uint64_t user_data, int flags)
    void io_uring_prep_rw(int op, io_uring_sqe *sqe, int fd, const void *addr, unsigned len, uint64_t offset)
    int io_uring_register_files(io_uring *ring, const int *files, unsigned nr_files)
    int io_uring_unregister_files(io_uring *ring)
    int io_uring_register_eventfd(io_uring *ring, int fd)
    int io_uring_unregister_eventfd(io_uring *ring)
    int io_uring_cq_eventfd_toggle(io_uring *ring, bint enabled)
    int io_uring_register_buf_ring(io_uring *ring, io_uring_buf_reg *reg, unsigned int flags)
    int io_uring_unregister_buf_ring(io_uring *ring, int bgid)
    void io_uring_buf_ring_init(io_uring_buf_ring *br)
    void io_uring_buf_ring_add(io_uring_buf_ring *br, void *addr, unsigned int len,
                               unsigned short bid, int mask, int buf_offset)
    void io_uring_buf_ring_advance(io_uring_buf_ring *br, int count)
    int io_uring_buf_ring_mask(uint32_t ring_entries)

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

cdef extern from "<unistd.h>" nogil:
    ssize_t read(int fd, void *buf, size_t count)
    ssize_t write(int fd, const void *buf, size_t count)
    int close(int fd)
    int pipe2(int *fds, int flags)
    long syscall(long number, ...)

cdef extern from "<sys/eventfd.h>" nogil:
    int eventfd(unsigned int initval, int flags)
    int EFD_CLOEXEC, EFD_NONBLOCK

cdef extern from "<sys/uio.h>" nogil:
    ssize_t readv(int fd, const iovec *iov, int iovcnt)
    ssize_t writev(int fd, const iovec *iov, int iovcnt)

cdef extern from "<errno.h>" nogil:
    int errno
    int ENOBUFS
    int EINTR
    int ECANCELED

# liburing 2.3 declares io_uring_enable_rings but its shared library does not export
# it: the ring is enabled with syscall() (uring_enable).
cdef extern from "<sys/syscall.h>" nogil:
    long SYS_io_uring_register

cdef extern from "<fcntl.h>" nogil:
    int O_CLOEXEC

cdef extern from "<poll.h>" nogil:
    struct pollfd:
        int fd
        short events
        short revents
    int poll(pollfd *fds, unsigned long nfds, int timeout)
    short POLLIN
