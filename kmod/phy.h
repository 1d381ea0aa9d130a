/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One radio (wiphy) and the scheduler its vifs share.
 *
 * Each airtime qdisc (one per vif) holds a reference on the phy of its
 * wiphy; so does every frame in flight and the periodic report work.  The
 * phy holds a reference on this module, so the module cannot go while any
 * frame carrying our skb destructor is still out in a driver.
 */
#ifndef _RANSDN_AIRTIME_PHY_H
#define _RANSDN_AIRTIME_PHY_H

#include <linux/list.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/cfg80211.h>
#include <net/mac80211.h>

#include "core/airtime.h"

struct airtime_qdisc;

struct airtime_phy {
	struct list_head node;		/* registry, under airtime_phys_lock */
	refcount_t refs;
	/* Identity only: dereferenced while a qdisc (whose netdev pins the
	 * wiphy) is attached.
	 */
	struct wiphy *wiphy;
	struct ieee80211_hw *hw;
	char name[32];			/* wiphy name when created */

	/* Serialises every call into the core and the fields below; taken
	 * with interrupts disabled because skb destructors may run with
	 * them off.
	 */
	spinlock_t lock;
	struct airtime_sched sched;
	struct airtime_qdisc *qdiscs[AIRTIME_MAX_VIFS];	/* by core slot */
	unsigned int num_qdiscs;
	bool report_queued;
	bool tx_status_seen;
	struct list_head inflight;	/* records, oldest first */
	u64 aged_packets;		/* released by age, not completion */

	struct delayed_work report_work;
	struct work_struct free_work;
};

int airtime_phy_module_init(void);
void airtime_phy_module_exit(void);

struct airtime_phy *airtime_phy_get_or_create(struct wiphy *wiphy);
void airtime_phy_hold(struct airtime_phy *phy);
void airtime_phy_put(struct airtime_phy *phy);

/* Register/unregister a qdisc as a vif of the phy (process context). */
int airtime_phy_add_qdisc(struct airtime_phy *phy, struct airtime_qdisc *q,
			  u32 guaranteed, u32 cap);
void airtime_phy_remove_qdisc(struct airtime_phy *phy, struct airtime_qdisc *q);

/*
 * With phy->lock held: collect the core's wakeups and kick those qdiscs,
 * except self (a qdisc that just polled the core knows its own verdict).
 */
void airtime_phy_wake_locked(struct airtime_phy *phy, u64 now,
			     const struct airtime_qdisc *self);

/*
 * With phy->lock held: follow the band q's vif operates on (the core's
 * overhead model depends on it).
 */
void airtime_phy_refresh_band_locked(struct airtime_phy *phy,
				     struct airtime_qdisc *q, u64 now);

/*
 * Call fn for every vif in net (all namespaces if net is NULL), with the
 * registry lock and the vif's phy->lock held (so fn must not sleep).  Stops
 * early and returns fn's value when it returns non-zero.
 */
int airtime_for_each_vif(struct net *net,
			 int (*fn)(struct airtime_phy *phy,
				   struct airtime_qdisc *q, void *arg),
			 void *arg);

/* Like airtime_for_each_vif() for each phy with at least one vif in net. */
int airtime_for_each_phy(struct net *net,
			 int (*fn)(struct airtime_phy *phy, void *arg),
			 void *arg);

static inline u64 airtime_now(void)
{
	return ktime_get_ns();
}

#endif /* _RANSDN_AIRTIME_PHY_H */
