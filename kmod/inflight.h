/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Following a frame from dequeue to completion.
 *
 * skb->cb belongs to mac80211 once a frame leaves the qdisc, so the
 * record of what was charged lives in a table keyed by the skb's address,
 * and an skb destructor (set only on frames that have none) finds it when
 * the driver frees the frame.  With TX status (skb->wifi_acked_valid)
 * the rates tried give the measured airtime.  Each record holds a
 * reference on its phy, and so on this module.
 */
#ifndef _RANSDN_AIRTIME_INFLIGHT_H
#define _RANSDN_AIRTIME_INFLIGHT_H

#include <linux/skbuff.h>

#include "core/airtime.h"

struct airtime_phy;
struct airtime_inflight;

int airtime_inflight_module_init(void);
void airtime_inflight_module_exit(void);

/* A record for a frame about to be dequeued; NULL when none can be had. */
struct airtime_inflight *airtime_inflight_alloc(void);
void airtime_inflight_free(struct airtime_inflight *rec);

/*
 * Follow skb (whose destructor is NULL) until it completes; consumes rec.
 * airtime_tx_complete() is called exactly once for *tx, from the destructor.
 */
void airtime_inflight_arm(struct airtime_inflight *rec, struct airtime_phy *phy,
			  struct sk_buff *skb, const struct airtime_tx *tx);

/* Records in use now (all radios). */
unsigned int airtime_inflight_count(void);

#endif /* _RANSDN_AIRTIME_INFLIGHT_H */
