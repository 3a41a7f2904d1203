# Declarations of pyrtap_mbuf.h: pool and mbuf layout shared with other processes.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

cdef extern from "pyrtap_mbuf.h" nogil:
    enum:
        PYRTAP_POOL_MAGIC
        PYRTAP_MAX_POOLS
        PYRTAP_MBUF_FREE
        PYRTAP_MBUF_ALLOCATED
        PYRTAP_MBUF_QUEUED
        PYRTAP_MBUF_DEAD

    ctypedef struct pyrtap_mbuf:
        uint64_t ol_flags
        uint64_t next
        uint64_t attached
        uint32_t pkt_len
        uint32_t packet_type
        uint32_t idx
        uint16_t pool_id
        uint16_t data_off
        uint16_t data_len
        uint16_t nb_segs
        uint16_t refcnt
        uint16_t port
        uint16_t buf_len
        uint16_t tso_segsz
        uint16_t l2_len
        uint16_t l3_len
        uint16_t l4_len
        uint16_t outer_l2_len
        uint16_t outer_l3_len
        uint8_t state

    ctypedef struct pyrtap_pool_hdr:
        uint64_t magic
        char name[64]
        uint32_t n
        uint32_t data_room
        uint32_t priv_size
        uint32_t stride
        uint64_t meta_off
        uint64_t stack_off
        uint64_t data_off
        uint64_t total_size
        uint32_t pool_id
        uint32_t cache_size
        uint32_t lock
        uint32_t top
        uint64_t get_success_bulk, get_success_objs, get_fail_bulk, get_fail_objs
        uint64_t put_bulk, put_objs
        uint32_t gen

    ctypedef struct pyrtap_pool:
        pyrtap_pool_hdr *hdr
        pyrtap_mbuf *meta
        uint32_t *stack
        uint8_t *data
        uint32_t n
        uint32_t stride
        uint32_t priv_size
        uint16_t data_room
        uint16_t pool_id
        uint16_t gen

    pyrtap_pool *pyrtap_pools[]
    uint16_t pyrtap_pool_gen_next
    int pyrtap_errno_value

    void pyrtap_spin_lock(uint32_t *lock)
    void pyrtap_spin_unlock(uint32_t *lock)
    uint16_t pyrtap_refcnt_add(uint16_t *refcnt, int v)
    uint16_t pyrtap_refcnt_read(uint16_t *refcnt)
    uint64_t pyrtap_mbuf_ref(const pyrtap_mbuf *m)
    pyrtap_mbuf *pyrtap_mbuf_deref(uint64_t ref)
    uint8_t *pyrtap_mbuf_buf(const pyrtap_mbuf *m)
    uint8_t *pyrtap_mbuf_data(const pyrtap_mbuf *m)
    pyrtap_mbuf *pyrtap_mbuf_next(const pyrtap_mbuf *m)
