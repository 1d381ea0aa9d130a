/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Following a frame from dequeue to completion.
 *
 * skb->cb belongs to mac80211 once a frame leaves the qdisc, so the
 * record of what was charged lives in a table keyed by the skb's address,
 * and an skb destructor (set only on frames that have none) finds it when
 * the driver frees the frame.  With TX status (skb->wifi_acked_valid)
 * the rates tried give the measured airtime.  Each record holds a
 * reference on its phy, and so on this module, until the destructor ran.
 *
 * A frame can stay with mac80211 for long, e.g. buffered for a station
 * in power save.  It should not hold the radio's in-flight budget all that
 * time, so records also sit on a per-phy FIFO and are "aged": after
 * airtime_inflight_max_age() their airtime is returned to the core as
 * completed (the estimate stands); the destructor then only frees them.
 */
#ifndef _RANSDN_AIRTIME_INFLIGHT_H
#define _RANSDN_AIRTIME_INFLIGHT_H

#include <linux/list.h>
#include <linux/skbuff.h>

#include "core/airtime.h"

struct airtime_phy;

struct airtime_inflight {
	struct hlist_node node;		/* global table, by skb address */
	struct list_head age_node;	/* phy->inflight, under phy->lock */
	const struct sk_buff *skb;
	struct airtime_phy *phy;
	struct airtime_tx tx;
	u64 since;
	bool released;			/* aged: airtime already returned */
};

int airtime_inflight_module_init(void);
void airtime_inflight_module_exit(void);

/* A record for a frame about to be dequeued; NULL when none can be had. */
struct airtime_inflight *airtime_inflight_alloc(void);
void airtime_inflight_free(struct airtime_inflight *rec);

/*
 * With phy->lock held, right after airtime_vif_dequeue() filled *tx:
 * put rec on the phy's FIFO.  Then, without the lock, hand the frame over
 * with airtime_inflight_arm(); airtime_tx_complete() is called exactly
 * once for *tx, from the destructor or from aging.
 */
void airtime_inflight_track_locked(struct airtime_phy *phy,
				   struct airtime_inflight *rec,
				   const struct airtime_tx *tx, u64 now);
void airtime_inflight_arm(struct airtime_inflight *rec, struct sk_buff *skb);

/*
 * With phy->lock held: return the airtime of frames out for longer than
 * the maximum age.  Returns when the next one ages (U64_MAX: none left).
 */
u64 airtime_inflight_age_locked(struct airtime_phy *phy, u64 now);

u64 airtime_inflight_max_age(const struct airtime_phy *phy);

/* Records in use now (all radios). */
unsigned int airtime_inflight_count(void);

#endif /* _RANSDN_AIRTIME_INFLIGHT_H */
