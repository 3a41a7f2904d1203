/*
 * Kernel facts pyrtap's TAP data path relies on, defined once and checked against
 * the system headers at compile time wherever those headers know them; and the
 * kernel's id of the calling thread.
 */
#ifndef PYRTAP_LINUX_H
#define PYRTAP_LINUX_H

#include <linux/virtio_net.h>
#include <liburing.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The header a TAP queue opened with IFF_VNET_HDR reads and writes before every
 * frame, once TUNSETVNETHDRSZ has set its length to this (the legacy header,
 * without num_buffers): the drivers lay it in the mbuf headroom. */
#define VNET_HDR_LEN 10
_Static_assert(sizeof(struct virtio_net_hdr) == VNET_HDR_LEN,
               "VNET_HDR_LEN must be sizeof(struct virtio_net_hdr)");

/* IORING_OP_READ_MULTISHOT (kernel 6.7) is an enumerator of enum io_uring_op, which
 * the preprocessor cannot test for. liburing's io_uring.h has it from 2.5 on, and
 * liburing says its version from 2.4 on (io_uring_version.h, through liburing.h):
 * older headers get the kernel's ABI number, newer ones are checked against it. */
#if defined(IO_URING_VERSION_MAJOR) && defined(IO_URING_VERSION_MINOR) && \
    (IO_URING_VERSION_MAJOR > 2 || (IO_URING_VERSION_MAJOR == 2 && IO_URING_VERSION_MINOR >= 5))
_Static_assert(IORING_OP_READ_MULTISHOT == 49, "IORING_OP_READ_MULTISHOT is 49 in the kernel ABI");
#else
#define IORING_OP_READ_MULTISHOT 49
#endif

/* The kernel ties a SINGLE_ISSUER ring to a task (a thread), and so must net_rtap's
 * check of who polls a uring=defer queue: not to a pthread_t, which glibc hands to the
 * next thread once one exits (a second thread would pass for the first and its bursts
 * fail in the kernel). Cached per thread: gettid is a system call. */
static __thread int pyrtap_tid_cached;

static inline int pyrtap_tid(void)
{
    if (!pyrtap_tid_cached)
        pyrtap_tid_cached = (int)syscall(SYS_gettid);
    return pyrtap_tid_cached;
}

#endif
