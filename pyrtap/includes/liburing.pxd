# liburing's API (liburing-dev >= 2.3, what setup.py links): the calls of net_rtap's data
# path (core/rtap_rxtx.pxi) and of the raw io_uring baseline (_rawbench.pyx).
# Kernel opcodes and flags that liburing's own header may not have yet are in linux.pxd.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int32_t
from posix.uio cimport iovec

cdef extern from "<linux/time_types.h>" nogil:
    # What liburing's timed waits take: the kernel's 64-bit timespec, not libc's.
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
        IORING_REGISTER_ENABLE_RINGS    # io_uring_register opcode: linux.pxd's SYS_io_uring_register
        IORING_SETUP_CQSIZE
        IORING_ASYNC_CANCEL_ALL
        IORING_ASYNC_CANCEL_ANY
        IORING_CQE_F_BUFFER
        IORING_CQE_F_MORE
        IORING_CQE_BUFFER_SHIFT
        IOSQE_BUFFER_SELECT
        IOSQE_FIXED_FILE

    int io_uring_queue_init(unsigned entries, io_uring *ring, unsigned flags)
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
    void io_uring_prep_readv(io_uring_sqe *sqe, int fd, const iovec *iovecs, unsigned nr_vecs,
                             uint64_t offset)
    void io_uring_prep_write(io_uring_sqe *sqe, int fd, const void *buf, unsigned nbytes, uint64_t offset)
    void io_uring_prep_writev(io_uring_sqe *sqe, int fd, const iovec *iovecs, unsigned nr_vecs,
                              uint64_t offset)
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
