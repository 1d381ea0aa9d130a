// SPDX-License-Identifier: GPL-2.0
/*
 * The airtime qdisc.
 *
 * One instance is the root qdisc of one vif; every instance on the same
 * wiphy shares that radio's scheduler (struct airtime_phy).  Enqueue puts
 * frames on a FIFO (GSO packets cut into their segments first, so each
 * frame has its own estimate); dequeue asks the core whether the vif may
 * send its head frame now and, if not, arms the qdisc watchdog for when
 * it may.  EAPOL and similar control frames bypass the scheduler.
 */
#include <linux/if_ether.h>
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/skbuff.h>
#include <net/cfg80211.h>
#include <net/mac80211.h>

#include "qdisc.h"
#include <net/codel_impl.h>
#include <net/codel_qdisc.h>
#include "phy.h"
#include "inflight.h"
#include "uapi/ransdn_airtime.h"

/* Bypass frames queued at most (they are rare: key handshakes). */
#define AIRTIME_BYPASS_LIMIT		128
#define AIRTIME_LIMIT_MIN		16
#define AIRTIME_LIMIT_MAX		100000
/* mac80211's CoDel settings for slow stations: a vif may be both. */
#define AIRTIME_CODEL_TARGET_MS		20
#define AIRTIME_CODEL_INTERVAL_MS	100

/*
 * mac80211 data interfaces transmit through ieee80211_subif_start_xmit
 * (or its 802.3 variant); cfg80211-only (full-MAC) drivers and monitor
 * interfaces do not, and their wireless_dev is not embedded in mac80211's
 * state, which every mac80211 helper we call assumes.
 */
static bool airtime_is_mac80211_data_dev(const struct net_device *dev)
{
	char sym[KSYM_SYMBOL_LEN];

	if (!dev->ieee80211_ptr || !dev->ieee80211_ptr->wiphy ||
	    !dev->netdev_ops || !dev->netdev_ops->ndo_start_xmit)
		return false;
	sprint_symbol_no_offset(sym, (unsigned long)dev->netdev_ops->ndo_start_xmit);
	return str_has_prefix(sym, "ieee80211_subif_start_xmit") &&
	       strstr(sym, " [mac80211]");
}

static bool airtime_is_bypass(const struct sk_buff *skb)
{
	__be16 proto = skb->protocol;

	if (skb->len >= ETH_HLEN)
		proto = ((const struct ethhdr *)skb->data)->h_proto;
	return proto == htons(ETH_P_PAE) || proto == htons(ETH_P_PREAUTH) ||
	       proto == htons(ETH_P_TDLS);
}

int airtime_qdisc_band(struct airtime_qdisc *q)
{
	struct ieee80211_vif *vif;
	int band = -1;

	rcu_read_lock();
	vif = wdev_to_ieee80211_vif(q->dev->ieee80211_ptr);
	if (vif && vif->bss_conf.chandef.chan)
		band = vif->bss_conf.chandef.chan->band == NL80211_BAND_2GHZ ?
		       AIRTIME_BAND_2GHZ : AIRTIME_BAND_5GHZ;
	rcu_read_unlock();
	return band;
}

void airtime_qdisc_wake(struct airtime_qdisc *q, u64 now)
{
	qdisc_watchdog_schedule_ns(&q->watchdog, now);
}

static int airtime_enqueue_one(struct sk_buff *skb, struct Qdisc *sch,
			       struct sk_buff **to_free)
{
	struct airtime_qdisc *q = qdisc_priv(sch);
	struct airtime_phy *phy = q->phy;
	unsigned long flags;
	u64 now = airtime_now();

	if (unlikely(q->data.qlen >= q->limit)) {
		spin_lock_irqsave(&phy->lock, flags);
		airtime_vif_drop(&phy->sched, &q->vif, skb->len, false, now);
		spin_unlock_irqrestore(&phy->lock, flags);
		return qdisc_drop(skb, sch, to_free);
	}
	codel_set_enqueue_time(skb);
	__qdisc_enqueue_tail(skb, &q->data);
	qdisc_qstats_backlog_inc(sch, skb);
	sch->q.qlen++;

	spin_lock_irqsave(&phy->lock, flags);
	airtime_vif_enqueue(&phy->sched, &q->vif, skb->len, now);
	airtime_phy_wake_locked(phy, now, q);
	spin_unlock_irqrestore(&phy->lock, flags);
	return NET_XMIT_SUCCESS;
}

/* Queue the segments of a GSO packet one by one, like sch_tbf. */
static int airtime_enqueue_gso(struct sk_buff *skb, struct Qdisc *sch,
			       struct sk_buff **to_free)
{
	struct airtime_qdisc *q = qdisc_priv(sch);
	netdev_features_t features = netif_skb_features(skb);
	struct sk_buff *segs, *nskb;
	unsigned long flags;
	int queued = 0;

	segs = skb_gso_segment(skb, features & ~NETIF_F_GSO_MASK);
	if (IS_ERR_OR_NULL(segs)) {
		spin_lock_irqsave(&q->phy->lock, flags);
		airtime_vif_drop(&q->phy->sched, &q->vif, skb->len, false, airtime_now());
		spin_unlock_irqrestore(&q->phy->lock, flags);
		return qdisc_drop(skb, sch, to_free);
	}
	skb_list_walk_safe(segs, segs, nskb) {
		skb_mark_not_on_list(segs);
		qdisc_skb_cb(segs)->pkt_len = segs->len;
		if (airtime_enqueue_one(segs, sch, to_free) == NET_XMIT_SUCCESS)
			queued++;
	}
	consume_skb(skb);
	return queued ? NET_XMIT_SUCCESS : NET_XMIT_DROP;
}

static int airtime_enqueue(struct sk_buff *skb, struct Qdisc *sch,
			   struct sk_buff **to_free)
{
	struct airtime_qdisc *q = qdisc_priv(sch);

	if (unlikely(airtime_is_bypass(skb))) {
		if (q->bypass.qlen >= AIRTIME_BYPASS_LIMIT)
			return qdisc_drop(skb, sch, to_free);
		__qdisc_enqueue_tail(skb, &q->bypass);
		qdisc_qstats_backlog_inc(sch, skb);
		sch->q.qlen++;
		return NET_XMIT_SUCCESS;
	}
	if (skb_is_gso(skb))
		return airtime_enqueue_gso(skb, sch, to_free);
	return airtime_enqueue_one(skb, sch, to_free);
}

static struct sk_buff *airtime_dequeue_from(struct Qdisc *sch,
					    struct qdisc_skb_head *head)
{
	struct sk_buff *skb = __qdisc_dequeue_head(head);

	if (skb) {
		sch->q.qlen--;
		qdisc_qstats_backlog_dec(sch, skb);
		qdisc_bstats_update(sch, skb);
	}
	return skb;
}

static u32 airtime_codel_len(const struct sk_buff *skb)
{
	return qdisc_pkt_len(skb);
}

static struct sk_buff *airtime_codel_pop(struct codel_vars *vars, void *ctx)
{
	struct Qdisc *sch = ctx;
	struct airtime_qdisc *q = qdisc_priv(sch);
	struct sk_buff *skb = __qdisc_dequeue_head(&q->data);

	if (skb)
		sch->qstats.backlog -= qdisc_pkt_len(skb);
	return skb;
}

static void airtime_codel_drop(struct sk_buff *skb, void *ctx)
{
	struct Qdisc *sch = ctx;
	struct airtime_qdisc *q = qdisc_priv(sch);
	unsigned long flags;

	spin_lock_irqsave(&q->phy->lock, flags);
	airtime_vif_drop(&q->phy->sched, &q->vif, skb->len, true, airtime_now());
	spin_unlock_irqrestore(&q->phy->lock, flags);
	sch->q.qlen--;
	qdisc_qstats_drop(sch);
	kfree_skb_reason(skb, SKB_DROP_REASON_QDISC_DROP);
}

/* The next frame for the scheduler to judge, past CoDel. */
static struct sk_buff *airtime_head(struct Qdisc *sch)
{
	struct airtime_qdisc *q = qdisc_priv(sch);

	if (!q->head)
		q->head = codel_dequeue(sch, &sch->qstats.backlog, &q->cparams,
					&q->cvars, &q->cstats, airtime_codel_len,
					codel_get_enqueue_time, airtime_codel_drop,
					airtime_codel_pop);
	return q->head;
}

static struct sk_buff *airtime_dequeue(struct Qdisc *sch)
{
	struct airtime_qdisc *q = qdisc_priv(sch);
	struct airtime_phy *phy = q->phy;
	struct airtime_inflight *rec = NULL;
	enum airtime_verdict verdict;
	struct airtime_rate rate;
	struct airtime_tx tx;
	struct sk_buff *skb;
	unsigned long flags;
	u64 now, wake_at = 0, next_age;
	u32 mpdu_len;
	int err = 0;

	skb = airtime_dequeue_from(sch, &q->bypass);
	if (unlikely(skb)) {
		atomic64_inc(&q->bypass_packets);
		return skb;
	}
	skb = airtime_head(sch);
	if (!skb)
		return NULL;

	airtime_frame_rate(q, skb, &rate, &mpdu_len);
	/* Only a frame without a destructor can be followed to completion. */
	if (!skb->destructor) {
		if (!q->spare)
			q->spare = airtime_inflight_alloc();
		rec = q->spare;
	}

	now = airtime_now();
	spin_lock_irqsave(&phy->lock, flags);
	next_age = airtime_inflight_age_locked(phy, now);
	verdict = airtime_vif_poll(&phy->sched, &q->vif, now, &wake_at);
	if (verdict == AIRTIME_SEND) {
		u32 raw = airtime_raw_estimate(&phy->sched, mpdu_len, &rate);

		err = airtime_vif_dequeue(&phy->sched, &q->vif, skb->len, raw, now, &tx);
		if (!err && rec)
			airtime_inflight_track_locked(phy, rec, &tx, now);
		else if (!err)
			airtime_tx_complete(&phy->sched, &tx, 0, now);
	} else if (verdict == AIRTIME_WAIT_INFLIGHT) {
		/* Frames that never complete must not hold us forever. */
		wake_at = min(wake_at, next_age);
	}
	airtime_phy_wake_locked(phy, now, q);
	spin_unlock_irqrestore(&phy->lock, flags);

	if (verdict != AIRTIME_SEND) {
		WARN_ONCE(verdict == AIRTIME_IDLE,
			  "airtime: %s has frames the scheduler does not know of\n",
			  qdisc_dev(sch)->name);
		qdisc_watchdog_schedule_ns(&q->watchdog, wake_at);
		return NULL;
	}

	q->head = NULL;
	sch->q.qlen--;
	qdisc_bstats_update(sch, skb);
	if (unlikely(err)) {
		WARN_ONCE(1, "airtime: %s: the scheduler refused a frame (%d)\n",
			  qdisc_dev(sch)->name, err);
		atomic64_inc(&q->untracked_packets);
		return skb;
	}
	if (rec) {
		q->spare = NULL;
		airtime_inflight_arm(rec, skb);
	} else {
		atomic64_inc(&q->untracked_packets);
	}
	return skb;
}

static struct sk_buff *airtime_peek(struct Qdisc *sch)
{
	struct airtime_qdisc *q = qdisc_priv(sch);

	return q->bypass.head ?: q->head ?: q->data.head;
}

static void airtime_purge(struct qdisc_skb_head *head)
{
	rtnl_kfree_skbs(head->head, head->tail);
	head->head = NULL;
	head->tail = NULL;
	head->qlen = 0;
}

static void airtime_reset(struct Qdisc *sch)
{
	struct airtime_qdisc *q = qdisc_priv(sch);
	unsigned long flags;

	if (q->phy && q->slot >= 0) {
		spin_lock_irqsave(&q->phy->lock, flags);
		airtime_vif_purge(&q->phy->sched, &q->vif, airtime_now());
		spin_unlock_irqrestore(&q->phy->lock, flags);
	}
	if (q->head) {
		rtnl_kfree_skbs(q->head, q->head);
		q->head = NULL;
	}
	airtime_purge(&q->data);
	airtime_purge(&q->bypass);
	codel_vars_init(&q->cvars);
	sch->q.qlen = 0;
	sch->qstats.backlog = 0;
}

static int airtime_init(struct Qdisc *sch, struct nlattr *opt,
			struct netlink_ext_ack *extack)
{
	struct airtime_qdisc *q = qdisc_priv(sch);
	struct net_device *dev = qdisc_dev(sch);
	struct airtime_phy *phy;
	int err;

	/* ->destroy() runs after a failed ->init(): leave it a clean state. */
	qdisc_watchdog_init(&q->watchdog, sch);
	memset(&q->data, 0, sizeof(q->data));
	memset(&q->bypass, 0, sizeof(q->bypass));
	codel_params_init(&q->cparams);
	codel_vars_init(&q->cvars);
	codel_stats_init(&q->cstats);
	q->cparams.target = MS2TIME(AIRTIME_CODEL_TARGET_MS);
	q->cparams.interval = MS2TIME(AIRTIME_CODEL_INTERVAL_MS);
	q->cparams.mtu = psched_mtu(dev);
	q->cparams.ecn = true;
	q->sch = sch;
	q->dev = dev;
	q->slot = -1;
	atomic64_set(&q->bypass_packets, 0);
	atomic64_set(&q->untracked_packets, 0);

	if (sch->parent != TC_H_ROOT) {
		NL_SET_ERR_MSG(extack, "airtime must be the root qdisc of a Wi-Fi interface");
		return -EOPNOTSUPP;
	}
	if (!airtime_is_mac80211_data_dev(dev)) {
		NL_SET_ERR_MSG(extack, "airtime needs a mac80211 data interface (not monitor, not full-MAC)");
		return -EOPNOTSUPP;
	}
	if (opt && nla_len(opt)) {
		NL_SET_ERR_MSG(extack, "airtime takes no tc options; configure it over the ransdn_airtime generic netlink family");
		return -EINVAL;
	}
	q->limit = clamp_t(u32, dev->tx_queue_len, AIRTIME_LIMIT_MIN, AIRTIME_LIMIT_MAX);

	phy = airtime_phy_get_or_create(dev->ieee80211_ptr->wiphy);
	if (IS_ERR(phy)) {
		NL_SET_ERR_MSG(extack, "airtime: cannot allocate the radio's scheduler");
		return PTR_ERR(phy);
	}
	airtime_sta_cache_init(&q->stations, dev);
	err = airtime_phy_add_qdisc(phy, q, 0, AIRTIME_NO_CAP);
	if (err) {
		airtime_phy_put(phy);
		if (err == -ENOSPC)
			NL_SET_ERR_MSG(extack, "airtime: the radio has no free vif slot");
		else
			NL_SET_ERR_MSG(extack, "airtime: the scheduler refused the vif");
		return err;
	}
	q->phy = phy;
	return 0;
}

static void airtime_destroy(struct Qdisc *sch)
{
	struct airtime_qdisc *q = qdisc_priv(sch);

	qdisc_watchdog_cancel(&q->watchdog);
	airtime_sta_cache_destroy(&q->stations);
	airtime_reset(sch);
	if (q->phy) {
		airtime_phy_remove_qdisc(q->phy, q);
		/* After removal no completion or wakeup can reach us. */
		qdisc_watchdog_cancel(&q->watchdog);
		airtime_phy_put(q->phy);
		q->phy = NULL;
	}
	if (q->spare) {
		airtime_inflight_free(q->spare);
		q->spare = NULL;
	}
}

struct Qdisc_ops airtime_qdisc_ops __read_mostly = {
	.id		= RANSDN_AIRTIME_QDISC_KIND,
	.priv_size	= sizeof(struct airtime_qdisc),
	.enqueue	= airtime_enqueue,
	.dequeue	= airtime_dequeue,
	.peek		= airtime_peek,
	.init		= airtime_init,
	.reset		= airtime_reset,
	.destroy	= airtime_destroy,
	.owner		= THIS_MODULE,
};
