# cython: language_level=3
"""Raw C baselines for the benchmark (``pyrtap.compare``): the kernel's own limit.

Deliberately independent of pyrtap's core: it knows nothing of mbufs, pools or
queues, only file descriptors and bytes, so it measures what plain ``write()`` /
``read()`` system calls on a TAP queue fd achieve from a tight C loop.

* ``tx_write(fd, frame, seconds)``: ``write()`` the same buffer (virtio-net header
  + frame) in a loop, as the "C write() per frame" line of the reference
  measurements in docs/benchmarks.md.
* ``loopback(fd_a, fd_b, frame, seconds, burst)``: ``burst`` writes on A, then
  ``read()`` on B until EAGAIN; B receives what the kernel redirected from A.
* ``tx_uring(fd, frame, seconds, burst, flags)``: the same writes through io_uring in
  C, ``burst`` WRITE SQEs per ``io_uring_submit_and_wait`` (the "C io_uring" line of
  the reference measurements in docs/benchmarks.md), to tell the kernel's io_uring
  cost apart from the driver's.
* ``LengthSetter``: the one helper the Python Tx loops use, so that setting the
  lengths of a burst of pre-filled buffers costs next to nothing. It writes two
  integers at caller-given offsets of caller-given addresses; the caller (compare.py)
  derives the offsets from pyrtap's public numpy dtype of the mbuf metadata.

Each call runs with the GIL released and returns after ``seconds``; callers loop in
short slices so that Ctrl-C and progress updates are handled between slices.
"""
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, uintptr_t
from libc.errno cimport errno, EAGAIN, EINTR
from libc.stdlib cimport malloc, free
from libc.string cimport memcmp
from posix.time cimport timespec, clock_gettime, CLOCK_MONOTONIC
from posix.unistd cimport read, write

# The same liburing declarations as the core's (C declarations only: no code of the core).
from includes.liburing cimport (io_uring, io_uring_cqe, io_uring_queue_init, io_uring_queue_exit,
                                io_uring_get_sqe, io_uring_prep_write, io_uring_submit_and_wait,
                                io_uring_peek_batch_cqe, io_uring_cq_advance)

cdef enum:
    CHECK_EVERY = 64          # system calls between two clock reads
    RX_BUF = 65536 + 64       # larger than any frame a TAP can hand out


cdef inline double now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


def tx_write(int fd, const uint8_t[::1] buf not None, double seconds):
    """``write(fd, buf)`` in a loop for ``seconds``.

    ``buf`` is what each write carries (virtio-net header + frame). Returns
    ``(written, eagain, errors, elapsed)``: successful writes, EAGAIN answers
    and other failures, and the time actually spent.
    """
    cdef uint64_t written = 0, eagain = 0, errors = 0
    cdef const uint8_t *p = &buf[0]
    cdef size_t n = buf.shape[0]
    cdef double t0, t1, end
    cdef int _i
    cdef ssize_t r
    with nogil:
        t0 = now()
        end = t0 + seconds
        while True:
            for _i in range(CHECK_EVERY):
                r = write(fd, p, n)
                if r >= 0:
                    written += 1
                elif errno == EAGAIN:
                    eagain += 1
                elif errno != EINTR:
                    errors += 1
            t1 = now()
            if t1 >= end:
                break
    return written, eagain, errors, t1 - t0


def tx_uring(int fd, const uint8_t[::1] buf not None, double seconds, int burst=32,
             unsigned flags=0):
    """``burst`` io_uring WRITEs of ``buf`` per ``io_uring_submit_and_wait(burst)``, for ``seconds``.

    ``flags`` are the ring's setup flags. Returns ``(written, eagain, errors, elapsed)``.
    """
    cdef io_uring ring
    cdef io_uring_cqe *cqes[512]
    cdef uint64_t written = 0, eagain = 0, errors = 0
    cdef const uint8_t *p = &buf[0]
    cdef size_t n = buf.shape[0]
    cdef double t0, t1, end
    cdef unsigned got, k, j
    cdef int _i, rc
    if not 1 <= burst <= 512:
        raise ValueError("burst must be 1..512")
    rc = io_uring_queue_init(512, &ring, flags)
    if rc < 0:
        raise OSError(-rc, "io_uring_queue_init failed")
    with nogil:
        t0 = now()
        end = t0 + seconds
        while True:
            for _i in range(burst):
                io_uring_prep_write(io_uring_get_sqe(&ring), fd, p, n, 0)
            io_uring_submit_and_wait(&ring, burst)
            got = 0
            while got < <unsigned>burst:
                k = io_uring_peek_batch_cqe(&ring, cqes, burst - got)
                if k == 0:
                    io_uring_submit_and_wait(&ring, burst - got)
                    continue
                for j in range(k):
                    if cqes[j].res >= 0:
                        written += 1
                    elif cqes[j].res == -EAGAIN:
                        eagain += 1
                    else:
                        errors += 1
                io_uring_cq_advance(&ring, k)
                got += k
            t1 = now()
            if t1 >= end:
                break
    io_uring_queue_exit(&ring)
    return written, eagain, errors, t1 - t0


def loopback(int fd_a, int fd_b, const uint8_t[::1] buf not None, double seconds,
             int burst=32):
    """Write ``burst`` copies of ``buf`` on ``fd_a``, then read ``fd_b`` until EAGAIN; repeat.

    Returns ``(written, received, bad_length, errors, elapsed)``: ``bad_length``
    counts received frames whose length differs from ``buf``'s or whose bytes differ
    (only the first of every 1024 received frames is compared byte for byte).
    """
    cdef uint64_t written = 0, received = 0, bad = 0, errors = 0
    cdef const uint8_t *p = &buf[0]
    cdef size_t n = buf.shape[0]
    cdef uint8_t *rx = <uint8_t *>malloc(RX_BUF)
    cdef double t0, t1, end
    cdef int _i
    cdef ssize_t r
    if rx == NULL:
        raise MemoryError()
    if burst < 1:
        burst = 1
    try:
        with nogil:
            t0 = now()
            end = t0 + seconds
            while True:
                for _i in range(burst):
                    r = write(fd_a, p, n)
                    if r >= 0:
                        written += 1
                    elif errno != EAGAIN and errno != EINTR:
                        errors += 1
                while True:
                    r = read(fd_b, rx, RX_BUF)
                    if r < 0:
                        if errno != EAGAIN and errno != EINTR:
                            errors += 1
                        break
                    if <size_t>r != n:
                        bad += 1
                    elif (received & 1023) == 0 and memcmp(rx, p, n) != 0:
                        bad += 1
                    received += 1
                t1 = now()
                if t1 >= end:
                    break
    finally:
        free(rx)
    return written, received, bad, errors, t1 - t0


def drain(int fd):
    """Read ``fd`` until EAGAIN; returns the number of frames discarded."""
    cdef uint8_t *rx = <uint8_t *>malloc(RX_BUF)
    cdef uint64_t k = 0
    if rx == NULL:
        raise MemoryError()
    with nogil:
        while read(fd, rx, RX_BUF) >= 0:
            k += 1
    free(rx)
    return k


cdef class LengthSetter:
    """Sets two length fields in each of the first ``count`` records of an address array.

    ``LengthSetter(handles, off16, off32, length)``: ``handles`` is a contiguous
    uint64 numpy array of record addresses (an ``MbufBurst.handles``); calling the
    object with ``count`` stores ``length`` as a uint16 at ``addr + off16`` and as a
    uint32 at ``addr + off32`` for each of ``handles[0:count]``. The array is held,
    so its memory stays valid. Nothing is checked beyond the array's shape: the
    caller verifies the offsets once (compare.py does, through the public API).
    """
    cdef object handles
    cdef const uint64_t *addrs
    cdef Py_ssize_t size
    cdef Py_ssize_t off16, off32
    cdef uint32_t length

    def __cinit__(self, handles, Py_ssize_t off16, Py_ssize_t off32, uint32_t length):
        # A typed view checks type and contiguity (MbufBurst.handles is read-only).
        cdef const uint64_t[::1] view = handles
        if length > 0xFFFF:
            raise ValueError("length %d does not fit a 16-bit field" % length)
        self.handles = handles
        self.addrs = &view[0]
        self.size = view.shape[0]
        self.off16 = off16
        self.off32 = off32
        self.length = length

    def __call__(self, Py_ssize_t count):
        cdef Py_ssize_t i
        cdef uint8_t *a
        if count > self.size:
            count = self.size
        for i in range(count):
            a = <uint8_t *><uintptr_t>self.addrs[i]
            (<uint16_t *>(a + self.off16))[0] = <uint16_t>self.length
            (<uint32_t *>(a + self.off32))[0] = self.length
