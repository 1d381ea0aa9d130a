// SPDX-License-Identifier: GPL-2.0
/*
 * The registry of radios with airtime qdiscs and their shared scheduler.
 */
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "phy.h"
#include "qdisc.h"
#include "netlink.h"
#include "inflight.h"

static LIST_HEAD(airtime_phys);
static DEFINE_SPINLOCK(airtime_phys_lock);

/*
 * Reports and the final free of a phy run here, so module exit (which
 * destroys the queue) waits for any of them still executing our code.
 */
static struct workqueue_struct *airtime_wq;

/* Reports are sent every interval, but no more than this often. */
#define AIRTIME_REPORT_MIN_MS	10

static void airtime_report_work(struct work_struct *work);
static void airtime_phy_free_work(struct work_struct *work);

int airtime_phy_module_init(void)
{
	airtime_wq = alloc_workqueue("ransdn_airtime", 0, 0);
	return airtime_wq ? 0 : -ENOMEM;
}

void airtime_phy_module_exit(void)
{
	destroy_workqueue(airtime_wq);
	WARN_ON(!list_empty(&airtime_phys));
}

struct airtime_phy *airtime_phy_get_or_create(struct wiphy *wiphy)
{
	struct airtime_params params;
	struct airtime_phy *phy;
	unsigned long flags;
	int err;

	spin_lock_irqsave(&airtime_phys_lock, flags);
	list_for_each_entry(phy, &airtime_phys, node) {
		if (phy->wiphy == wiphy && refcount_inc_not_zero(&phy->refs)) {
			spin_unlock_irqrestore(&airtime_phys_lock, flags);
			return phy;
		}
	}
	spin_unlock_irqrestore(&airtime_phys_lock, flags);

	phy = kzalloc(sizeof(*phy), GFP_KERNEL);
	if (!phy)
		return ERR_PTR(-ENOMEM);
	airtime_params_default(&params);
	err = airtime_sched_init(&phy->sched, &params, airtime_now());
	if (err) {
		kfree(phy);
		return ERR_PTR(err);
	}
	spin_lock_init(&phy->lock);
	INIT_LIST_HEAD(&phy->inflight);
	refcount_set(&phy->refs, 1);
	INIT_DELAYED_WORK(&phy->report_work, airtime_report_work);
	INIT_WORK(&phy->free_work, airtime_phy_free_work);
	phy->wiphy = wiphy;
	phy->hw = wiphy_to_ieee80211_hw(wiphy);
	strscpy(phy->name, wiphy_name(wiphy), sizeof(phy->name));
	/* Dropped by the free work, on our own workqueue. */
	__module_get(THIS_MODULE);

	/* Creation runs under RTNL (qdisc init), so no twin can appear. */
	spin_lock_irqsave(&airtime_phys_lock, flags);
	list_add_tail(&phy->node, &airtime_phys);
	spin_unlock_irqrestore(&airtime_phys_lock, flags);
	return phy;
}

void airtime_phy_hold(struct airtime_phy *phy)
{
	refcount_inc(&phy->refs);
}

static void airtime_phy_free_work(struct work_struct *work)
{
	struct airtime_phy *phy = container_of(work, struct airtime_phy, free_work);

	kfree(phy);
	module_put(THIS_MODULE);
}

/* May run in any context, including an skb destructor. */
void airtime_phy_put(struct airtime_phy *phy)
{
	unsigned long flags;

	if (!refcount_dec_and_lock_irqsave(&phy->refs, &airtime_phys_lock, &flags))
		return;
	list_del(&phy->node);
	spin_unlock_irqrestore(&airtime_phys_lock, flags);
	queue_work(airtime_wq, &phy->free_work);
}

/*
 * Until just after the current interval ends, so reports follow interval
 * boundaries instead of drifting by the work's scheduling delay.
 */
static unsigned long airtime_report_period(const struct airtime_phy *phy, u64 now)
{
	u64 end = airtime_sched_interval_end(&phy->sched);
	u64 wait = end > now ? end - now : 0;

	wait = max_t(u64, wait, AIRTIME_REPORT_MIN_MS * NSEC_PER_MSEC);
	return nsecs_to_jiffies(wait) + 1;
}

int airtime_phy_add_qdisc(struct airtime_phy *phy, struct airtime_qdisc *q,
			  u32 guaranteed, u32 cap)
{
	unsigned long flags;
	u64 now = airtime_now();
	int slot;

	spin_lock_irqsave(&phy->lock, flags);
	if (!phy->num_qdiscs)
		airtime_phy_refresh_band_locked(phy, q, now);
	slot = airtime_vif_add(&phy->sched, &q->vif, guaranteed, cap, now);
	if (slot >= 0) {
		q->slot = slot;
		phy->qdiscs[slot] = q;
		phy->num_qdiscs++;
		if (!phy->report_queued) {
			phy->report_queued = true;
			refcount_inc(&phy->refs);
			queue_delayed_work(airtime_wq, &phy->report_work,
					   airtime_report_period(phy, now));
		}
	}
	spin_unlock_irqrestore(&phy->lock, flags);
	return slot < 0 ? slot : 0;
}

/*
 * Process context (qdisc destroy, under RTNL, which also serialises it
 * against airtime_phy_add_qdisc()).
 */
void airtime_phy_remove_qdisc(struct airtime_phy *phy, struct airtime_qdisc *q)
{
	bool stop_reports = false;
	unsigned long flags;
	u64 now = airtime_now();

	spin_lock_irqsave(&phy->lock, flags);
	if (q->slot >= 0 && phy->qdiscs[q->slot] == q) {
		airtime_vif_remove(&phy->sched, &q->vif, now);
		phy->qdiscs[q->slot] = NULL;
		phy->num_qdiscs--;
		q->slot = -1;
		airtime_phy_wake_locked(phy, now, NULL);
		if (!phy->num_qdiscs && phy->report_queued) {
			/* The work's reference is now ours to drop. */
			phy->report_queued = false;
			stop_reports = true;
		}
	}
	spin_unlock_irqrestore(&phy->lock, flags);

	/*
	 * Without this the module would stay in use until the work's next
	 * run; an rmmod right after the last "tc qdisc del" should work.
	 */
	if (stop_reports) {
		cancel_delayed_work_sync(&phy->report_work);
		airtime_phy_put(phy);
	}
}

void airtime_phy_wake_locked(struct airtime_phy *phy, u64 now,
			     const struct airtime_qdisc *self)
{
	u32 mask = airtime_sched_take_wakeups(&phy->sched);

	while (mask) {
		unsigned int slot = __ffs(mask);

		mask &= mask - 1;
		if (phy->qdiscs[slot] && phy->qdiscs[slot] != self)
			airtime_qdisc_wake(phy->qdiscs[slot], now);
	}
}

/*
 * The core's overhead model depends on the band (SIFS, slot time); follow
 * the operating channel of the vifs, which can change under us.
 */
void airtime_phy_refresh_band_locked(struct airtime_phy *phy,
				     struct airtime_qdisc *q, u64 now)
{
	struct airtime_params params;
	int band = airtime_qdisc_band(q);

	if (band < 0 || (u32)band == phy->sched.p.band)
		return;
	params = phy->sched.p;
	params.band = band;
	airtime_sched_set_params(&phy->sched, &params, now);
}

static void airtime_report_work(struct work_struct *work)
{
	struct airtime_phy *phy = container_of(to_delayed_work(work),
					       struct airtime_phy, report_work);
	unsigned long flags, period;
	unsigned int slot;
	u64 now = airtime_now();

	spin_lock_irqsave(&phy->lock, flags);
	if (!phy->report_queued) {
		/* Being cancelled by airtime_phy_remove_qdisc(). */
		spin_unlock_irqrestore(&phy->lock, flags);
		return;
	}
	for (slot = 0; slot < AIRTIME_MAX_VIFS; slot++) {
		if (phy->qdiscs[slot]) {
			airtime_phy_refresh_band_locked(phy, phy->qdiscs[slot], now);
			break;
		}
	}
	airtime_sched_advance(&phy->sched, now);
	airtime_inflight_age_locked(phy, now);
	airtime_phy_wake_locked(phy, now, NULL);
	period = airtime_report_period(phy, now);
	spin_unlock_irqrestore(&phy->lock, flags);

	airtime_netlink_report(phy);
	queue_delayed_work(airtime_wq, &phy->report_work, period);
}

static bool airtime_vif_in_net(const struct airtime_qdisc *q, const struct net *net)
{
	return q && (!net || net_eq(dev_net(q->dev), net));
}

/* Call fn on every phy with the registry lock and its own lock held. */
static int airtime_walk_phys(int (*fn)(struct airtime_phy *phy, void *arg), void *arg)
{
	struct airtime_phy *phy;
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&airtime_phys_lock, flags);
	list_for_each_entry(phy, &airtime_phys, node) {
		spin_lock(&phy->lock);
		ret = fn(phy, arg);
		spin_unlock(&phy->lock);
		if (ret)
			break;
	}
	spin_unlock_irqrestore(&airtime_phys_lock, flags);
	return ret;
}

struct airtime_walk {
	struct net *net;
	int (*phy_fn)(struct airtime_phy *phy, void *arg);
	int (*vif_fn)(struct airtime_phy *phy, struct airtime_qdisc *q, void *arg);
	void *arg;
};

static int airtime_walk_phy(struct airtime_phy *phy, void *arg)
{
	struct airtime_walk *w = arg;
	unsigned int slot;

	for (slot = 0; slot < AIRTIME_MAX_VIFS; slot++)
		if (airtime_vif_in_net(phy->qdiscs[slot], w->net))
			return w->phy_fn(phy, w->arg);
	return 0;
}

static int airtime_walk_vifs(struct airtime_phy *phy, void *arg)
{
	struct airtime_walk *w = arg;
	unsigned int slot;
	int ret = 0;

	for (slot = 0; slot < AIRTIME_MAX_VIFS && !ret; slot++)
		if (airtime_vif_in_net(phy->qdiscs[slot], w->net))
			ret = w->vif_fn(phy, phy->qdiscs[slot], w->arg);
	return ret;
}

int airtime_for_each_phy(struct net *net,
			 int (*fn)(struct airtime_phy *phy, void *arg),
			 void *arg)
{
	struct airtime_walk w = { .net = net, .phy_fn = fn, .arg = arg };

	return airtime_walk_phys(airtime_walk_phy, &w);
}

int airtime_for_each_vif(struct net *net,
			 int (*fn)(struct airtime_phy *phy,
				   struct airtime_qdisc *q, void *arg),
			 void *arg)
{
	struct airtime_walk w = { .net = net, .vif_fn = fn, .arg = arg };

	return airtime_walk_phys(airtime_walk_vifs, &w);
}
