// SPDX-License-Identifier: GPL-2.0
/*
 * A struct_ops of another type that supports links (a TCP congestion
 * control that does nothing useful): its link must not bind to a FUSE
 * connection.  kf_test never selects it for a socket.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/kf_ssthresh")
__u32 BPF_PROG(kf_ssthresh, struct sock *sk)
{
	return 2;
}

SEC("struct_ops/kf_cong_avoid")
void BPF_PROG(kf_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
}

SEC("struct_ops/kf_undo_cwnd")
__u32 BPF_PROG(kf_undo_cwnd, struct sock *sk)
{
	return 2;
}

SEC(".struct_ops")
struct tcp_congestion_ops kf_cc = {
	.ssthresh = (void *)kf_ssthresh,
	.cong_avoid = (void *)kf_cong_avoid,
	.undo_cwnd = (void *)kf_undo_cwnd,
	.name = "kf_test_cc",
};
