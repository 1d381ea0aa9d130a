/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A frame's airtime before it is sent (the estimate) and after (from TX
 * status).  The PPDU duration and the MAC overhead come from the core
 * (airtime_ppdu_ns(), airtime_overhead_ns()); this file finds the rate:
 * the destination station's entry in mac80211's rate table, or, for
 * drivers with their own rate control, the TX bitrate cfg80211 reports,
 * read by a work item into a small per-vif cache.
 */
#ifndef _RANSDN_AIRTIME_ESTIMATE_H
#define _RANSDN_AIRTIME_ESTIMATE_H

#include <linux/etherdevice.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/mac80211.h>

#include "core/airtime.h"

struct airtime_qdisc;

/* The rate a frame is expected to go at. */
struct airtime_rate {
	u32 kbps;		/* 0: unknown */
	/*
	 * PPDU duration from mac80211 for HT/VHT rates; 0 for legacy rates,
	 * whose PPDU the core computes exactly.
	 */
	u32 ppdu_ns;
	u8 source;		/* enum ransdn_airtime_rate_source */
};

#define AIRTIME_STA_CACHE_SIZE	32

struct airtime_sta_rate {
	u8 addr[ETH_ALEN];
	bool wanted;		/* the work item should (re)read it */
	u32 kbps;		/* 0 until read, or when the driver has none */
	unsigned long updated;	/* jiffies */
};

/* Station-info rates of one vif's stations, for the fallback. */
struct airtime_sta_cache {
	spinlock_t lock;
	struct net_device *dev;
	struct work_struct work;
	struct airtime_sta_rate entry[AIRTIME_STA_CACHE_SIZE];
};

void airtime_sta_cache_init(struct airtime_sta_cache *c, struct net_device *dev);
void airtime_sta_cache_destroy(struct airtime_sta_cache *c);

/* Length on the air (802.11 header, LLC/SNAP, FCS) of an Ethernet frame. */
u32 airtime_mpdu_len(unsigned int eth_len, bool qos);

/*
 * Rate and MPDU length for the Ethernet frame skb queued on q.  Takes the
 * RCU read lock itself; never fails (falls back to the lowest basic rate).
 */
void airtime_frame_rate(struct airtime_qdisc *q, const struct sk_buff *skb,
			struct airtime_rate *rate, u32 *mpdu_len);

/* Rate towards sta on vif (under rcu_read_lock()). */
void airtime_sta_rate(struct airtime_qdisc *q, struct ieee80211_vif *vif,
		      struct ieee80211_sta *sta, u32 mpdu_len,
		      struct airtime_rate *rate);

/* Raw estimate in ns: PPDU + the overhead model of s (s's lock held). */
u32 airtime_raw_estimate(const struct airtime_sched *s, u32 mpdu_len,
			 const struct airtime_rate *rate);

/*
 * Airtime from the TX status of a completed frame: every rate tried,
 * times its attempts, with the overhead model of s.  0 when the status
 * carries no usable rates (the estimate then stands).
 */
u32 airtime_status_ns(const struct airtime_sched *s, struct ieee80211_hw *hw,
		      struct sk_buff *skb);

/* Testing aid: estimate from station info even when a rate table exists. */
extern bool airtime_force_station_info;

#endif /* _RANSDN_AIRTIME_ESTIMATE_H */
