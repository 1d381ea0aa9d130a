/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * ransdn local airtime scheduler: the scheduling core.
 *
 * Plain C with no kernel headers.  The same object is linked into the
 * kernel module (one root qdisc per AP vif, state shared per wiphy) and
 * into kmod/build/libairtime.so for the C harness, the Python
 * binding (testbed/airtime_core.py) and the shared-medium simulator.
 *
 * Model (see kmod/core/README.md for the argument):
 *  - A radio (wiphy) has one struct airtime_sched.  Time is cut into
 *    intervals of interval_ns.  Each vif gets credit = guaranteed share x
 *    interval at the start of every interval.
 *  - A backlogged vif with credit left goes before any vif without credit
 *    (the guarantee).  Vifs without credit borrow the airtime others leave
 *    unused, in proportion to their guaranteed shares (work conserving).
 *    Within each class, vifs are interleaved by a virtual time of their
 *    own class that advances by charge / share.
 *  - A vif with a cap never gets more than cap x interval per interval,
 *    even on an otherwise idle radio.
 *  - The airtime released to the driver and not yet completed is bounded
 *    by inflight_budget_ns, measured both as outstanding frames and as a
 *    virtual channel clock that advances by each frame's charge: drivers
 *    that complete frames instantly (hwsim without a medium) are still
 *    paced to real time.
 *  - A frame is charged its estimate (PPDU + MAC overhead) x the vif's
 *    congestion factor at dequeue; at completion the charge is corrected
 *    to the measured airtime when the driver reported TX status, and the
 *    congestion factor follows measured/estimated as an EWMA.
 *
 * Conventions:
 *  - Time is u64 nanoseconds from any monotonic clock (ktime_get_ns() in
 *    the kernel).  Comparisons are wrap-safe: the clock may wrap through
 *    2^64 as long as no two instants the core compares are 2^63 ns apart.
 *  - Shares are basis points: 10000 = 100.00 %, the resolution of the
 *    YANG airtime-share type (decimal64, 2 fraction digits).
 *  - Congestion factors are unsigned Q16.16 fixed point: 65536 = 1.0.
 *  - Functions that can fail return 0 or a negative errno.
 *  - No function allocates, sleeps or takes locks.  The caller serialises
 *    every call on one struct airtime_sched (the module: one spinlock per
 *    wiphy) and provides all storage.
 *  - Everything is deterministic: the same calls give the same results.
 *
 * How a root qdisc per vif drives it (every call under the wiphy's lock):
 *  - enqueue: airtime_vif_enqueue(); a frame refused because the queue is
 *    full: airtime_vif_drop(..., queued = false).
 *  - dequeue: airtime_vif_poll().  On AIRTIME_SEND take the head frame,
 *    estimate it (airtime_estimate_ns() from the station's rate, or
 *    mac80211's PPDU duration + airtime_overhead_ns()) and call
 *    airtime_vif_dequeue(), keeping the struct airtime_tx with the skb.
 *    Otherwise qdisc_watchdog_schedule_ns(wake_at) and return NULL.
 *  - TX completion (skb destructor): airtime_tx_complete() with the
 *    measured airtime from TX status, or 0.
 *  - After every call: airtime_sched_take_wakeups() and
 *    __netif_schedule() the qdisc of each vif in the mask.
 *  - reset: airtime_vif_purge(); destroy: airtime_vif_remove().
 *  - A timer each interval: airtime_sched_advance(), then the stats.
 */
#ifndef _AIRTIME_H
#define _AIRTIME_H

#include "airtime_types.h"

#define AIRTIME_MAX_VIFS		32	/* per radio; wakeup masks are u32 */
#define AIRTIME_SHARE_ONE		10000	/* basis points in 100 % */
#define AIRTIME_NO_CAP			U32_MAX	/* cap: no ceiling */

#define AIRTIME_CF_SHIFT		16
#define AIRTIME_CF_ONE			(1U << AIRTIME_CF_SHIFT)
#define AIRTIME_CF_MIN			66U			/* ~0.001 */
#define AIRTIME_CF_MAX			(1000U << AIRTIME_CF_SHIFT)

/* Parameter ranges; the YANG scheduler-parameters use the same ones. */
#define AIRTIME_INTERVAL_MIN_NS		1000000ULL	/* 1 ms */
#define AIRTIME_INTERVAL_MAX_NS		1000000000ULL	/* 1 s */
#define AIRTIME_BUDGET_MIN_NS		100000ULL	/* 100 us */
#define AIRTIME_BUDGET_MAX_NS		100000000ULL	/* 100 ms */
#define AIRTIME_STALL_MIN_NS		1000000ULL	/* 1 ms */
#define AIRTIME_STALL_MAX_NS		1000000000ULL	/* 1 s */
#define AIRTIME_STALL_DEFAULT_NS	10000000ULL	/* 10 ms */
#define AIRTIME_CF_EWMA_DEFAULT		4	/* weight 1/16 per frame */
#define AIRTIME_CF_EWMA_MAX		12

/* Rate to assume when a station's rate is unknown (lowest OFDM rate). */
#define AIRTIME_FALLBACK_RATE_KBPS	6000U

enum airtime_overhead {
	AIRTIME_OVERHEAD_NONE = 0,	/* PPDU duration only */
	AIRTIME_OVERHEAD_DCF = 1,	/* + AIFS, mean backoff, SIFS, ACK */
};

enum airtime_band {
	AIRTIME_BAND_5GHZ = 0,		/* also 6 GHz: SIFS 16 us */
	AIRTIME_BAND_2GHZ = 1,		/* ERP: SIFS 10 us, 6 us signal ext. */
};

/* Per-radio parameters. */
struct airtime_params {
	u64 interval_ns;	/* credit period */
	u64 inflight_budget_ns;	/* airtime released and not completed */
	u64 stall_ns;		/* 0: default; see README "stalled vifs" */
	u32 overhead;		/* enum airtime_overhead */
	u32 band;		/* enum airtime_band */
	u32 cf_ewma_shift;	/* EWMA weight 2^-shift; 0: default */
	u32 reserved;		/* must be 0 */
};

/* Verdict of airtime_vif_poll(). */
enum airtime_verdict {
	AIRTIME_SEND = 0,		/* dequeue one frame now */
	AIRTIME_WAIT_INFLIGHT = 1,	/* the radio has its budget out */
	AIRTIME_WAIT_TURN = 2,		/* other vifs go first */
	AIRTIME_WAIT_CAP = 3,		/* cap reached in this interval */
	AIRTIME_IDLE = 4,		/* no backlog known to the core */
};

/*
 * Per-frame record filled at dequeue and handed back at completion.  The
 * module keeps it with the skb until the destructor runs.  It names the
 * vif by slot and generation, so a completion after the vif was removed
 * (or its slot reused) only returns the in-flight airtime.
 */
struct airtime_tx {
	u32 charge_ns;		/* charged at dequeue: raw x congestion factor */
	u32 raw_ns;		/* estimate before the congestion factor */
	u16 gen;		/* generation of the vif slot */
	u8 slot;		/* vif slot */
	u8 flags;		/* AIRTIME_TX_* */
};

#define AIRTIME_TX_BORROWED	0x01	/* sent on borrowed airtime */
#define AIRTIME_TX_VALID	0x80	/* set by a successful dequeue */

/* Cumulative counters and current state of one vif. */
struct airtime_vif_stats {
	u64 estimated_ns;	/* sum of raw estimates (before the factor) */
	u64 charged_ns;		/* charged: measured where TX status, else
				 * estimate x congestion factor */
	u64 measured_ns;	/* sum of TX-status airtime alone */
	u64 borrowed_ns;	/* charged beyond the guarantee */
	s64 credit_ns;		/* guaranteed credit left in this interval
				 * minus airtime borrowed in it */
	u64 interval_charged_ns; /* charged in the current interval */
	u64 backlogged_ns;	/* time with frames queued */
	u64 throttled_ns;	/* time held back by cap or by priority of
				 * vifs still within their guarantee */
	u64 tx_packets;
	u64 tx_bytes;
	u64 status_packets;	/* completions charged from TX status */
	u64 estimate_packets;	/* completions where the estimate stood */
	u64 drop_packets;
	u64 drop_bytes;
	u64 backlog_bytes;
	u32 backlog_packets;
	u32 congestion_q16;	/* congestion factor, Q16.16 */
	u32 guaranteed;		/* basis points */
	u32 cap;		/* basis points or AIRTIME_NO_CAP */
	u32 slot;
	u32 held;		/* 1 while throttled */
};

/* State of the radio as a whole. */
struct airtime_sched_stats {
	u64 inflight_ns;	/* max(outstanding, virtual clock lead) */
	u64 outstanding_ns;	/* charge of frames not yet completed */
	u64 vclock_lead_ns;	/* virtual channel clock ahead of now */
	u64 interval_start_ns;
	u64 intervals;		/* intervals started since init */
	u64 orphan_completions;	/* completions for removed vifs */
	u32 inflight_packets;
	u32 vifs;
	u32 guaranteed_sum;	/* basis points; may exceed 10000 */
	u32 reserved;
};

/*
 * One vif.  Caller-provided storage; fields are private to airtime.c and
 * only declared here so the caller can embed the struct (in the qdisc's
 * private data, for example).
 */
struct airtime_vif {
	/* configuration */
	u32 guaranteed;
	u32 cap;
	u64 quota_ns;		/* guaranteed x interval */
	u64 cap_ns;		/* cap x interval, U64_MAX without cap */
	u64 vt_mult;		/* vtime per charged ns, Q16 */
	/* this interval */
	s64 credit_ns;
	u64 ivl_used_ns;	/* charged, for the cap; carries overshoot */
	u64 ivl_charged_ns;
	u64 ivl_borrowed_ns;
	/* scheduling */
	u64 vtime[2];		/* guaranteed round, borrowing */
	u64 last_poll;
	u64 wake_at;		/* last wake time handed to the caller */
	u64 backlog_since;
	u64 held_since;
	u64 backlog_bytes;
	u32 backlog_packets;
	u32 cf;			/* congestion factor, Q16 */
	u16 gen;
	u8 slot;
	u8 flags;
	u32 reserved;
	/* cumulative */
	u64 estimated_ns;
	u64 charged_ns;
	u64 measured_ns;
	u64 borrowed_ns;
	u64 backlogged_ns;
	u64 throttled_ns;
	u64 tx_packets;
	u64 tx_bytes;
	u64 status_packets;
	u64 estimate_packets;
	u64 drop_packets;
	u64 drop_bytes;
};

/* One radio.  Caller-provided storage; fields are private. */
struct airtime_sched {
	struct airtime_params p;
	u64 ivl_start;
	u64 intervals;
	u64 vclock;		/* virtual channel busy until */
	u64 outstanding_ns;
	u64 orphan_completions;
	u32 inflight_packets;
	u32 active_mask;	/* slots in use */
	u32 waiting_mask;	/* vifs told to wait, to be woken */
	u32 wake_mask;		/* vifs to wake, see take_wakeups */
	struct airtime_vif *vifs[AIRTIME_MAX_VIFS];
	u16 gen[AIRTIME_MAX_VIFS];
};

/* ---- Radio ------------------------------------------------------------ */

/* Check parameters; -EINVAL names no field, the ranges are above. */
int airtime_params_validate(const struct airtime_params *p);

/* Fill *p with the defaults (100 ms, 4 ms, dcf, 5 GHz). */
void airtime_params_default(struct airtime_params *p);

/* Initialise an empty radio; the first interval starts at now. */
int airtime_sched_init(struct airtime_sched *s, const struct airtime_params *p,
		       u64 now);

/*
 * Change parameters at run time.  A new interval starts at now with fresh
 * credit; frames in flight stay accounted.
 */
int airtime_sched_set_params(struct airtime_sched *s,
			     const struct airtime_params *p, u64 now);

/*
 * Roll the interval forward if now has passed its end.  Every other call
 * does this too; call it from a timer to refill credit and produce
 * wakeups while no vif polls.  Returns the number of intervals that began.
 */
u64 airtime_sched_advance(struct airtime_sched *s, u64 now);

/* End of the current interval (after airtime_sched_advance()). */
u64 airtime_sched_interval_end(const struct airtime_sched *s);

/*
 * Vifs (bit n = slot n) that were told to wait and may send now: kick
 * their qdiscs (__netif_schedule()).  Clears the set.
 */
u32 airtime_sched_take_wakeups(struct airtime_sched *s);

void airtime_sched_get_stats(const struct airtime_sched *s, u64 now,
			     struct airtime_sched_stats *st);

/* The vif in slot n, or NULL. */
struct airtime_vif *airtime_sched_vif(const struct airtime_sched *s, u32 slot);

/* ---- Vifs ------------------------------------------------------------- */

/*
 * Register caller storage *v as a vif of s with a guaranteed share and an
 * optional cap (basis points; cap AIRTIME_NO_CAP for none).  Its credit
 * for the rest of the current interval is prorated.  Returns the slot
 * (>= 0), -EINVAL for bad shares (cap < guaranteed, > 10000) or -ENOSPC.
 * The sum of guarantees may exceed 100 % while the controller moves
 * shares around; each backlogged vif then gets guaranteed / sum.
 */
int airtime_vif_add(struct airtime_sched *s, struct airtime_vif *v,
		    u32 guaranteed, u32 cap, u64 now);

/*
 * Unregister *v.  Its queued frames are the caller's to free (count them
 * with airtime_vif_drop() first if they are dropped); completions of its
 * frames in flight still return their airtime to the radio.
 */
void airtime_vif_remove(struct airtime_sched *s, struct airtime_vif *v,
			u64 now);

/*
 * Change the shares of a registered vif.  The guarantee's change is
 * prorated over the rest of the interval; a cap applies to the airtime
 * already used in this interval at once.  -EINVAL leaves *v unchanged.
 */
int airtime_vif_set_share(struct airtime_sched *s, struct airtime_vif *v,
			  u32 guaranteed, u32 cap, u64 now);

/* A frame of len bytes entered the vif's queue.  -EINVAL: v unknown. */
int airtime_vif_enqueue(struct airtime_sched *s, struct airtime_vif *v,
			u32 len, u64 now);

/*
 * A frame was dropped: queued = true for one that airtime_vif_enqueue()
 * had counted, false for one refused at enqueue.  -EINVAL if queued and
 * the core knows no such backlog (nothing changes).
 */
int airtime_vif_drop(struct airtime_sched *s, struct airtime_vif *v,
		     u32 len, bool queued, u64 now);

/* The whole queue was dropped (qdisc reset); counts the drops.  A call
 * for an unknown v does nothing. */
void airtime_vif_purge(struct airtime_sched *s, struct airtime_vif *v,
		       u64 now);

/*
 * May v send a frame now?  (AIRTIME_IDLE for an unknown v.)
 * On AIRTIME_SEND dequeue one frame and call
 * airtime_vif_dequeue(); otherwise *wake_at is the latest time to poll
 * again (arm qdisc_watchdog for it).  It may be woken earlier through
 * airtime_sched_take_wakeups().  *wake_at is always set and always
 * after now, and never later than the end of the current interval.
 */
enum airtime_verdict airtime_vif_poll(struct airtime_sched *s,
				      struct airtime_vif *v, u64 now,
				      u64 *wake_at);

/*
 * For a caller that owns every vif's queue (the simulator, a single-queue
 * qdisc): the vif the scheduler serves next, or NULL with *wake_at as in
 * airtime_vif_poll().  Equivalent to polling every backlogged vif and
 * taking the one the policy ranks first.
 */
struct airtime_vif *airtime_sched_pick(struct airtime_sched *s, u64 now,
				       u64 *wake_at);

/*
 * Charge a dequeued frame of len bytes whose raw estimate (PPDU + MAC
 * overhead, before the congestion factor; see airtime_estimate_ns()) is
 * raw_ns, and fill *tx for airtime_tx_complete().  -EINVAL for raw_ns == 0
 * (an unknown rate: the caller estimates with AIRTIME_FALLBACK_RATE_KBPS)
 * or no backlog known to the core; nothing changes then.
 */
int airtime_vif_dequeue(struct airtime_sched *s, struct airtime_vif *v,
			u32 len, u32 raw_ns, u64 now, struct airtime_tx *tx);

/*
 * The frame of *tx left the driver.  measured_ns is the airtime from TX
 * status, or 0 when the driver gave none (the estimate stands).  Safe
 * after the vif was removed.  Each *tx must be completed exactly once.
 */
void airtime_tx_complete(struct airtime_sched *s, const struct airtime_tx *tx,
			 u32 measured_ns, u64 now);

void airtime_vif_get_stats(const struct airtime_sched *s,
			   const struct airtime_vif *v, u64 now,
			   struct airtime_vif_stats *st);

/* ---- Estimates (airtime_estimate.c) ------------------------------------ */

/*
 * Duration of a data PPDU of len bytes (MPDU incl. header and FCS) at
 * rate_kbps: DSSS/CCK for 1, 2, 5.5 and 11 Mb/s (long preamble), legacy
 * OFDM for 6..54 Mb/s, otherwise an HT mixed-format PPDU with one LTF and
 * 4 us symbols carrying rate x 4 us bits.  Saturates at U32_MAX; 0 for a
 * zero rate.
 */
u32 airtime_ppdu_ns(u32 len, u32 rate_kbps, u32 band);

/*
 * MAC overhead per frame under a model: for dcf, AIFS (AC_BE) + mean
 * backoff (CWmin / 2 slots) + SIFS + the ACK at the highest mandatory rate
 * not above rate_kbps.  rate_kbps 0 means unknown (ACK at the lowest).
 */
u32 airtime_overhead_ns(u32 overhead, u32 band, u32 rate_kbps);

/*
 * Raw estimate for a frame on s: airtime_ppdu_ns() + airtime_overhead_ns()
 * with s's model and band.  0 for a zero rate.  A module that takes the
 * PPDU from mac80211 (ieee80211_calc_rx_airtime(), which includes a SIFS)
 * adds airtime_overhead_ns() itself.
 */
u32 airtime_estimate_ns(const struct airtime_sched *s, u32 len,
			u32 rate_kbps);

#endif /* _AIRTIME_H */
