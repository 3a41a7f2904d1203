# Declarations of pyrtap_ethdev_fp.h: the atomics that let a port be withdrawn from
# the fast-path table while bursts on it run in other threads.
from libc.stdint cimport uint16_t

cdef extern from "pyrtap_ethdev_fp.h" nogil:
    void pyrtap_busy_inc(int *c)
    void pyrtap_busy_dec(int *c)
    int pyrtap_busy_read(int *c)
    uint16_t pyrtap_nb_read(uint16_t *n)
    void pyrtap_nb_write(uint16_t *n, uint16_t v)
