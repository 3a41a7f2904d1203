# POSIX and glibc declarations that Cython's own libc.* and posix.* cimports lack
# (read/write/close, readv/writev, mmap, errno and the rest come from those).

cdef extern from "<errno.h>" nogil:
    enum:
        ENOTSUP                # libc.errno has EOPNOTSUPP only

cdef extern from "<pthread.h>" nogil:
    ctypedef unsigned long pthread_t
    pthread_t pthread_self()
    int pthread_equal(pthread_t a, pthread_t b)

cdef extern from "<sched.h>" nogil:
    int sched_yield()
