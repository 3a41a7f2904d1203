/*
 * Atomics of the ethdev fast-path table (core/ethdev_fp.pxi).
 *
 * Bursts run without the GIL, so another thread may stop a port meanwhile. A burst
 * announces itself in the port's busy count before it reads the table; stopping a
 * port empties the table, then waits for the count to drop to 0. Both sides are
 * sequentially consistent: either the burst sees the empty table, or the stop sees
 * the burst and waits for it to end.
 */
#ifndef PYRTAP_ETHDEV_FP_H
#define PYRTAP_ETHDEV_FP_H

#include <stdint.h>

static inline void pyrtap_busy_inc(int *c) { __atomic_add_fetch(c, 1, __ATOMIC_SEQ_CST); }
static inline void pyrtap_busy_dec(int *c) { __atomic_sub_fetch(c, 1, __ATOMIC_RELEASE); }
static inline int pyrtap_busy_read(int *c) { return __atomic_load_n(c, __ATOMIC_SEQ_CST); }
static inline uint16_t pyrtap_nb_read(uint16_t *n) { return __atomic_load_n(n, __ATOMIC_SEQ_CST); }
static inline void pyrtap_nb_write(uint16_t *n, uint16_t v) { __atomic_store_n(n, v, __ATOMIC_SEQ_CST); }

#endif
