// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Work per packet of the airtime core against a plain FIFO, for
 * testbed/bench/core_callgrind.py to count under callgrind.
 *
 *   airtime_bench fifo|core|sim NVIF PACKETS
 *
 * Both "fifo" and "core" run the same loop: per packet, the module's
 * enqueue (the frame goes into the vif's queue), its dequeue (a qdisc
 * takes the head frame) and the driver's completion.  "fifo" is a qdisc
 * that only queues: a ring per vif, served round robin.  "core" adds the
 * airtime core: enqueue accounting, polls until a vif may send (failed
 * polls and wakeups included), the charge, and a completion with TX
 * status (the costlier path: it updates the congestion factor).  Time
 * advances by each frame's airtime, so the in-flight budget and the
 * interval roll over as on a saturated radio.
 *
 * "sim" counts airtime_sim_step() on one saturated radio.
 *
 * Prints the number of packets it completed; the script differences two
 * runs to cancel start-up work.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airtime.h"
#include "airtime_sim.h"

#define RING	64
#define MAXV	AIRTIME_MAX_VIFS

struct ring {
	u32 len[RING];
	u32 head, count;
};

static struct ring rings[MAXV];
static struct airtime_sched sched;
static struct airtime_vif vifs[MAXV];
static volatile u64 sink;

static u32 frame_len(u32 i)
{
	return 200 + 100 * (i % 13);
}

static u32 frame_rate(u32 i)
{
	static const u32 rates[] = { 6000, 12000, 24000, 54000 };

	return rates[i % 4];
}

static void ring_push(struct ring *r, u32 len)
{
	r->len[(r->head + r->count) % RING] = len;
	r->count++;
}

static u32 ring_pop(struct ring *r)
{
	u32 len = r->len[r->head];

	r->head = (r->head + 1) % RING;
	r->count--;
	return len;
}

/*
 * Every vif stays saturated: the frame a vif sends is replaced by a new
 * one, so queues keep their depth whatever the shares.
 */
#define DEPTH	4

static u64 run_fifo(u32 n, u64 packets)
{
	u64 p, done = 0, now = 0;
	u32 i, k, rr = 0;

	for (i = 0; i < n; i++)
		for (k = 0; k < DEPTH; k++)
			ring_push(&rings[i], frame_len(i));
	for (p = 0; p < packets; p++) {
		u32 len;

		/* dequeue: the next vif with frames */
		while (!rings[rr].count)
			rr = (rr + 1) % n;
		i = rr;
		len = ring_pop(&rings[i]);
		rr = (rr + 1) % n;
		/* completion */
		now += len;
		sink += len;
		done++;
		/* enqueue */
		ring_push(&rings[i], frame_len(i));
	}
	return done;
}

static u64 polls;

/*
 * The kernel's pattern: only qdiscs that were kicked (wakeups) or whose
 * watchdog fired run, and a running qdisc keeps dequeuing while told
 * SEND.
 */
static u64 run_core(u32 n, u64 packets)
{
	struct airtime_params prm;
	u64 p, done = 0, now = 0, wake, timer[MAXV];
	u32 i, k, rr = 0, runnable = 0, share = AIRTIME_SHARE_ONE / n;

	airtime_params_default(&prm);
	airtime_sched_init(&sched, &prm, now);
	for (i = 0; i < n; i++) {
		airtime_vif_add(&sched, &vifs[i], share, AIRTIME_NO_CAP, now);
		for (k = 0; k < DEPTH; k++) {
			ring_push(&rings[i], frame_len(i));
			airtime_vif_enqueue(&sched, &vifs[i], frame_len(i), now);
		}
		timer[i] = U64_MAX;
		runnable |= 1U << i;
	}
	for (p = 0; p < packets; p++) {
		struct airtime_tx tx;
		u32 len, raw;

		/* dequeue: runnable qdiscs poll until one may send */
		for (;;) {
			u64 next = U64_MAX;

			while (runnable) {
				while (!(runnable & (1U << rr)))
					rr = (rr + 1) % n;
				polls++;
				if (airtime_vif_poll(&sched, &vifs[rr], now, &wake) ==
				    AIRTIME_SEND)
					goto send;
				runnable &= ~(1U << rr);
				runnable |= airtime_sched_take_wakeups(&sched);
				timer[rr] = wake;
			}
			/* Nobody may send: the earliest watchdog fires. */
			for (i = 0; i < n; i++)
				if (timer[i] < next)
					next = timer[i];
			now = next;
			for (i = 0; i < n; i++) {
				if (timer[i] <= now) {
					timer[i] = U64_MAX;
					runnable |= 1U << i;
				}
			}
		}
send:
		runnable |= airtime_sched_take_wakeups(&sched);
		i = rr;
		len = ring_pop(&rings[i]);
		raw = airtime_estimate_ns(&sched, len, frame_rate(i));
		airtime_vif_dequeue(&sched, &vifs[i], len, raw, now, &tx);
		runnable |= airtime_sched_take_wakeups(&sched);
		/* completion, with TX status */
		now += tx.charge_ns;
		airtime_tx_complete(&sched, &tx, raw + raw / 8, now);
		runnable |= airtime_sched_take_wakeups(&sched);
		done++;
		/* enqueue */
		ring_push(&rings[i], frame_len(i));
		airtime_vif_enqueue(&sched, &vifs[i], frame_len(i), now);
	}
	if (getenv("AIRTIME_BENCH_VERBOSE"))
		fprintf(stderr, "polls per packet: %.2f\n", (double)polls / done);
	return done;
}

static u64 run_sim(u32 n, u64 packets)
{
	struct airtime_params prm;
	struct airtime_sim_vif_in in[MAXV];
	struct airtime_sim_vif_out out[MAXV];
	struct airtime_sim_step_in step = { 10000000, 10000000, 70000, 1 };
	struct airtime_sim_step_out rout;
	struct airtime_sim *sim;
	u64 done = 0;
	u32 i;

	airtime_params_default(&prm);
	sim = airtime_sim_create(&prm, 0);
	for (i = 0; i < n; i++) {
		airtime_sim_vif_add(sim, AIRTIME_SHARE_ONE / n, AIRTIME_NO_CAP);
		in[i] = (struct airtime_sim_vif_in){ AIRTIME_SIM_SATURATED,
						     frame_len(i), frame_rate(i) };
	}
	while (done < packets) {
		airtime_sim_step(sim, &step, in, n, out, &rout);
		done += rout.tx_packets;
	}
	airtime_sim_destroy(sim);
	return done;
}

int main(int argc, char **argv)
{
	u64 packets, done;
	u32 n;

	if (argc != 4) {
		fprintf(stderr, "usage: %s fifo|core|sim NVIF PACKETS\n", argv[0]);
		return 2;
	}
	n = (u32)strtoul(argv[2], NULL, 10);
	packets = strtoull(argv[3], NULL, 10);
	if (!n || n > MAXV) {
		fprintf(stderr, "NVIF must be 1..%d\n", MAXV);
		return 2;
	}
	if (!strcmp(argv[1], "fifo")) {
		done = run_fifo(n, packets);
	} else if (!strcmp(argv[1], "core")) {
		done = run_core(n, packets);
	} else if (!strcmp(argv[1], "sim")) {
		done = run_sim(n, packets);
	} else {
		fprintf(stderr, "unknown mode %s\n", argv[1]);
		return 2;
	}
	printf("%" PRIu64 "\n", done);
	return 0;
}
