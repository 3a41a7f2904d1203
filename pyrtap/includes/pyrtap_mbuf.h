/*
 * C layout of pyrtap's shared pool memory and mbuf metadata.
 *
 * Everything here lives inside one shared mapping per pool (memfd), so a
 * second process mapping the same memfd sees the same mbufs. Pointers are
 * therefore never stored in shared memory: links between mbufs ("next",
 * "attached") are process-independent references (pool id + index).
 *
 * The numpy dtype in pyrtap/mempool.py is built from the offsets the compiler
 * gives these fields (_core.MBUF_LAYOUT); tests/test_mempool.py checks that every
 * field declared here is in that layout.
 */
#ifndef PYRTAP_MBUF_H
#define PYRTAP_MBUF_H

#include <stdint.h>
#include <string.h>

#define PYRTAP_POOL_MAGIC 0x3170617472797030ULL /* "0pyrtap1" */
#define PYRTAP_MAX_POOLS 256
#define PYRTAP_MBUF_FREE 0
#define PYRTAP_MBUF_ALLOCATED 1
#define PYRTAP_MBUF_QUEUED 2      /* owned by a queue: posted for Rx, or a Tx in flight */
#define PYRTAP_MBUF_DEAD 3        /* its pool was freed */

/* One mbuf's metadata: one 64-byte cache line, like rte_mbuf's first line. */
typedef struct pyrtap_mbuf {
    uint64_t ol_flags;
    uint64_t next;        /* ref of the next segment, 0 = none */
    uint64_t attached;    /* indirect mbuf: ref of the direct mbuf owning the data */
    uint32_t pkt_len;
    uint32_t packet_type;
    uint32_t idx;         /* own index in its pool (constant) */
    uint16_t pool_id;     /* own pool (constant) */
    uint16_t data_off;
    uint16_t data_len;
    uint16_t nb_segs;
    uint16_t refcnt;      /* updated atomically: clones live in other processes too */
    uint16_t port;
    uint16_t buf_len;
    uint16_t tso_segsz;
    uint16_t l2_len;
    uint16_t l3_len;
    uint16_t l4_len;
    uint16_t outer_l2_len;
    uint16_t outer_l3_len;
    uint8_t state;        /* PYRTAP_MBUF_FREE / _ALLOCATED / _QUEUED / _DEAD: catches double frees */
    uint8_t reserved;
} pyrtap_mbuf;

_Static_assert(sizeof(pyrtap_mbuf) == 64, "pyrtap_mbuf must be one cache line");

/* Start of the shared mapping. Offsets, not pointers: each process maps it
 * at its own address. */
typedef struct pyrtap_pool_hdr {
    uint64_t magic;
    char name[64];
    uint32_t n;
    uint32_t data_room;
    uint32_t priv_size;
    uint32_t stride;         /* bytes per element in the data area */
    uint64_t meta_off;       /* offset of pyrtap_mbuf[n] */
    uint64_t stack_off;      /* offset of uint32_t[n], the free stack */
    uint64_t data_off;       /* offset of the data area */
    uint64_t total_size;
    uint32_t pool_id;
    uint32_t cache_size;
    uint32_t lock;           /* spinlock shared between processes */
    uint32_t top;            /* number of free indices on the stack */
    /* statistics, updated under the lock */
    uint64_t get_success_bulk, get_success_objs, get_fail_bulk, get_fail_objs;
    uint64_t put_bulk, put_objs;
    uint32_t gen;            /* generation of the pool id: stale references are detected */
} pyrtap_pool_hdr;

/* A process-local view of one pool's mapping. */
typedef struct pyrtap_pool {
    pyrtap_pool_hdr *hdr;
    pyrtap_mbuf *meta;
    uint32_t *stack;
    uint8_t *data;
    uint32_t n;
    uint32_t stride;
    uint32_t priv_size;
    uint16_t data_room;
    uint16_t pool_id;
    uint16_t gen;            /* hdr->gen, the top 16 bits of every reference to this pool */
} pyrtap_pool;

/* The pools this process has mapped, by pool id. */
static pyrtap_pool *pyrtap_pools[PYRTAP_MAX_POOLS];

static __thread int pyrtap_errno_value;

#if defined(__x86_64__) || defined(__i386__)
#define PYRTAP_CPU_RELAX() __builtin_ia32_pause()
#else
#define PYRTAP_CPU_RELAX() __asm__ __volatile__("" ::: "memory")
#endif

static inline void pyrtap_spin_lock(uint32_t *lock)
{
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED))
            PYRTAP_CPU_RELAX();
    }
}

static inline void pyrtap_spin_unlock(uint32_t *lock)
{
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

static inline uint16_t pyrtap_refcnt_add(uint16_t *refcnt, int v)
{
    return __atomic_add_fetch(refcnt, (uint16_t)v, __ATOMIC_ACQ_REL);
}

static inline uint16_t pyrtap_refcnt_read(uint16_t *refcnt)
{
    return __atomic_load_n(refcnt, __ATOMIC_ACQUIRE);
}

/* Pool generations: each new pool takes the next one, so a reference kept from a
 * freed pool whose id was reused does not resolve to the new pool's mbufs. */
static uint16_t pyrtap_pool_gen_next = 1;

/* A reference is gen << 48 | (pool_id + 1) << 32 | idx, so 0 means "none". */
static inline uint64_t pyrtap_mbuf_ref(const pyrtap_mbuf *m)
{
    pyrtap_pool *p;
    if (!m)
        return 0;
    p = pyrtap_pools[m->pool_id];
    return ((uint64_t)(p ? p->gen : 0) << 48) | (((uint64_t)m->pool_id + 1) << 32) | m->idx;
}

/* The mbuf a reference names, or NULL when it is none, or stale (its pool freed, the
 * pool id reused by another pool) or out of range. */
static inline pyrtap_mbuf *pyrtap_mbuf_deref(uint64_t ref)
{
    pyrtap_pool *p;
    uint32_t id = (uint32_t)(ref >> 32) & 0xFFFF;
    if (!ref || id == 0 || id > PYRTAP_MAX_POOLS)
        return NULL;
    p = pyrtap_pools[id - 1];
    if (!p || p->gen != (uint16_t)(ref >> 48) || (uint32_t)ref >= p->n)
        return NULL;
    return &p->meta[(uint32_t)ref];
}

/* Start of the buffer whose data this mbuf describes (its own, or the direct
 * mbuf's for a clone). */
static inline uint8_t *pyrtap_mbuf_buf(const pyrtap_mbuf *m)
{
    pyrtap_pool *p;
    const pyrtap_mbuf *d;
    if (m->attached && (d = pyrtap_mbuf_deref(m->attached)) != NULL)
        m = d;
    p = pyrtap_pools[m->pool_id];
    return p->data + (uint64_t)m->idx * p->stride + p->priv_size;
}

static inline uint8_t *pyrtap_mbuf_data(const pyrtap_mbuf *m)
{
    return pyrtap_mbuf_buf(m) + m->data_off;
}

static inline pyrtap_mbuf *pyrtap_mbuf_next(const pyrtap_mbuf *m)
{
    return pyrtap_mbuf_deref(m->next);
}

#endif
