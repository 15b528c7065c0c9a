/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet samples: 1 in sample_period packets, at most sample_max_per_sec per
 * CPU, copied (first BW_SAMPLE_BYTES) into the "samples" ring buffer.
 * Included only by breakwater.bpf.c.
 */
#ifndef BW_SAMPLES_BPF_H
#define BW_SAMPLES_BPF_H

#define NSEC_PER_SEC 1000000000ULL

static __always_inline void sample_packet(struct xdp_md *ctx,
					  struct bw_config *cfg,
					  struct bw_stats *st, __u64 len,
					  enum bw_verdict verdict)
{
	__u32 period = cfg->sample_period;
	struct bw_sample *s;
	__u64 now;
	__u32 cap;

	if (!period || (period > 1 && bpf_get_prandom_u32() % period))
		return;
	now = bpf_ktime_get_ns();
	if (now - st->sample_window_ns >= NSEC_PER_SEC) {
		st->sample_window_ns = now;
		st->sample_window_count = 0;
	}
	if (cfg->sample_max_per_sec &&
	    st->sample_window_count >= cfg->sample_max_per_sec) {
		st->counters[BW_C_SAMPLES_LOST]++;
		return;
	}
	s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
	if (!s) {
		st->counters[BW_C_SAMPLES_LOST]++;
		return;
	}
	cap = len < BW_SAMPLE_BYTES ? len : BW_SAMPLE_BYTES;
	s->ts_ns = now;
	s->len = len;
	s->cap_len = cap;
	s->verdict = verdict;
	s->pad = 0;
	if (cap < 1 || bpf_xdp_load_bytes(ctx, 0, s->data, cap) < 0) {
		bpf_ringbuf_discard(s, 0);
		st->counters[BW_C_SAMPLES_LOST]++;
		return;
	}
	st->sample_window_count++;
	st->counters[BW_C_SAMPLED]++;
	bpf_ringbuf_submit(s, 0);
}

#endif /* BW_SAMPLES_BPF_H */
