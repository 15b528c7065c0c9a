/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Bit tricks for the hot path, which BPF has no instruction for. Included
 * only by breakwater.bpf.c.
 */
#ifndef BW_BITS_BPF_H
#define BW_BITS_BPF_H

/*
 * The de Bruijn slot (0-31) of a non-zero word's lowest set bit: x & -x
 * isolates the bit, and multiplying it by the de Bruijn sequence 0x077cb531
 * leaves a different 5-bit pattern in the top bits for each of the 32 bits.
 * A 32-entry table indexed by the slot then gives what its user needs of
 * the bit (slot s is bit 0, 1, 28, 2, 29, 14, 24, 3, 30, 22, 20, 15, 25, 17,
 * 4, 8, 31, 27, 13, 23, 21, 19, 16, 7, 26, 12, 18, 6, 11, 5, 10, 9 for s =
 * 0-31), with no loop and no branch (a branch per step would also give the
 * verifier a path per result).
 */
static __always_inline __u32 lowest_bit_slot(__u32 x)
{
	return ((x & -x) * 0x077cb531u) >> 27;
}

#endif /* BW_BITS_BPF_H */
