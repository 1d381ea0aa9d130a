/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The airtime qdisc: the root qdisc of one AP vif.  It queues the vif's
 * frames and asks the radio's shared scheduler (the core) when each may
 * go to mac80211.
 */
#ifndef _RANSDN_AIRTIME_QDISC_H
#define _RANSDN_AIRTIME_QDISC_H

#include <linux/atomic.h>
#include <net/codel.h>
#include <net/pkt_sched.h>
#include <net/sch_generic.h>

#include "core/airtime.h"
#include "estimate.h"

struct airtime_phy;
struct airtime_inflight;

struct airtime_qdisc {
	/* The core's state of this vif, under phy->lock. */
	struct airtime_vif vif;
	struct airtime_phy *phy;
	struct Qdisc *sch;
	struct net_device *dev;
	int slot;			/* core slot, -1 when not registered */
	u32 limit;			/* scheduled frames queued, at most */

	struct qdisc_watchdog watchdog;
	/* Under the qdisc's root lock. */
	struct qdisc_skb_head data;	/* frames the scheduler releases */
	struct qdisc_skb_head bypass;	/* EAPOL and the like: go first */
	/*
	 * The frame CoDel let through, waiting for the scheduler's go; still
	 * counted in sch->q.qlen and in the core's backlog.
	 */
	struct sk_buff *head;
	struct airtime_inflight *spare;	/* completion record for the head */

	/*
	 * A tenant held to a small share of a slow radio drains slowly; CoDel
	 * keeps its queueing delay in check instead of letting a full queue
	 * stand for seconds.
	 */
	struct codel_params cparams;
	struct codel_vars cvars;
	struct codel_stats cstats;

	atomic64_t bypass_packets;
	atomic64_t untracked_packets;

	struct airtime_sta_cache stations;
};

extern struct Qdisc_ops airtime_qdisc_ops;

/* Let the qdisc run again soon (from any context). */
void airtime_qdisc_wake(struct airtime_qdisc *q, u64 now);

/* The core's band (enum airtime_band) of q's vif, or -1 if unknown. */
int airtime_qdisc_band(struct airtime_qdisc *q);

#endif /* _RANSDN_AIRTIME_QDISC_H */
