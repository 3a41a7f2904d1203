# POSIX and glibc declarations that Cython's own libc.* and posix.* cimports lack
# (read/write/close, readv/writev, mmap, O_CLOEXEC, errno and the rest come from those).

cdef extern from "<errno.h>" nogil:
    enum:
        ENOTSUP                # libc.errno has EOPNOTSUPP only
        ECANCELED

cdef extern from "<unistd.h>" nogil:
    int pipe2(int *fds, int flags)
    long syscall(long number, ...)

cdef extern from "<poll.h>" nogil:
    struct pollfd:
        int fd
        short events
        short revents
    int poll(pollfd *fds, unsigned long nfds, int timeout)
    enum:
        POLLIN

cdef extern from "<sched.h>" nogil:
    int sched_yield()
