// SPDX-License-Identifier: GPL-2.0
/*
 * The ransdn_airtime generic netlink family.
 *
 * Every command has its own strict policy, so an attribute that belongs to
 * another command, an unknown one, a value out of range or trailing junk
 * is rejected with an extended ACK instead of being ignored.  Replies are
 * built from snapshots taken under the phy's lock.
 */
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "netlink.h"
#include "phy.h"
#include "qdisc.h"
#include "inflight.h"
#include "uapi/ransdn_airtime.h"

#define A(name)	RANSDN_AIRTIME_ATTR_##name

static struct genl_family airtime_genl_family;

static struct netlink_range_validation airtime_interval_range = {
	.min = AIRTIME_INTERVAL_MIN_NS / NSEC_PER_USEC,
	.max = AIRTIME_INTERVAL_MAX_NS / NSEC_PER_USEC,
};
static struct netlink_range_validation airtime_budget_range = {
	.min = AIRTIME_BUDGET_MIN_NS / NSEC_PER_USEC,
	.max = AIRTIME_BUDGET_MAX_NS / NSEC_PER_USEC,
};
static struct netlink_range_validation airtime_stall_range = {
	.min = AIRTIME_STALL_MIN_NS / NSEC_PER_USEC,
	.max = AIRTIME_STALL_MAX_NS / NSEC_PER_USEC,
};
static struct netlink_range_validation airtime_share_range = {
	.min = 0, .max = RANSDN_AIRTIME_SHARE_FULL,
};
static struct netlink_range_validation airtime_cap_range = {
	.min = 1, .max = RANSDN_AIRTIME_SHARE_FULL,
};
static struct netlink_range_validation airtime_limit_range = {
	.min = 16, .max = 100000,
};

static const struct nla_policy airtime_get_policy[A(MAX) + 1] = {
	[A(IFINDEX)] = NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy airtime_set_phy_policy[A(MAX) + 1] = {
	[A(IFINDEX)] = NLA_POLICY_MIN(NLA_U32, 1),
	[A(INTERVAL_US)] = NLA_POLICY_FULL_RANGE(NLA_U32, &airtime_interval_range),
	[A(INFLIGHT_BUDGET_US)] = NLA_POLICY_FULL_RANGE(NLA_U32, &airtime_budget_range),
	[A(OVERHEAD_MODEL)] = NLA_POLICY_MAX(NLA_U8, RANSDN_AIRTIME_OVERHEAD_DCF),
	[A(STALL_US)] = NLA_POLICY_FULL_RANGE(NLA_U32, &airtime_stall_range),
};

static const struct nla_policy airtime_set_vif_policy[A(MAX) + 1] = {
	[A(IFINDEX)] = NLA_POLICY_MIN(NLA_U32, 1),
	[A(SHARE)] = NLA_POLICY_FULL_RANGE(NLA_U32, &airtime_share_range),
	[A(CAP)] = NLA_POLICY_FULL_RANGE(NLA_U32, &airtime_cap_range),
	[A(QUEUE_LIMIT)] = NLA_POLICY_FULL_RANGE(NLA_U32, &airtime_limit_range),
};

/* ---- snapshots ---------------------------------------------------------- */

struct airtime_vif_snap {
	int ifindex;
	char ifname[IFNAMSIZ];
	char phy[32];
	u32 limit;
	u64 bypass_packets;
	u64 untracked_packets;
	struct airtime_vif_stats st;
};

struct airtime_phy_snap {
	char name[32];
	struct airtime_params p;
	struct airtime_sched_stats st;
	u64 aged_packets;
	bool tx_status_seen;
};

/* Both under phy->lock. */
static void airtime_snap_vif(struct airtime_phy *phy, struct airtime_qdisc *q,
			     u64 now, struct airtime_vif_snap *s)
{
	s->ifindex = q->dev->ifindex;
	strscpy(s->ifname, q->dev->name, sizeof(s->ifname));
	strscpy(s->phy, phy->name, sizeof(s->phy));
	s->limit = READ_ONCE(q->limit);
	s->bypass_packets = atomic64_read(&q->bypass_packets);
	s->untracked_packets = atomic64_read(&q->untracked_packets);
	airtime_vif_get_stats(&phy->sched, &q->vif, now, &s->st);
}

static void airtime_snap_phy(struct airtime_phy *phy, u64 now,
			     struct airtime_phy_snap *s)
{
	strscpy(s->name, phy->name, sizeof(s->name));
	s->p = phy->sched.p;
	s->tx_status_seen = phy->tx_status_seen;
	s->aged_packets = phy->aged_packets;
	airtime_sched_get_stats(&phy->sched, now, &s->st);
}

static u64 airtime_us(u64 ns)
{
	return div_u64(ns, NSEC_PER_USEC);
}

static int airtime_put_vif(struct sk_buff *msg, const struct airtime_vif_snap *s)
{
	const struct airtime_vif_stats *st = &s->st;
	u8 source = st->status_packets > st->estimate_packets ?
		    RANSDN_AIRTIME_SOURCE_TX_STATUS : RANSDN_AIRTIME_SOURCE_ESTIMATE;
	u32 cap = st->cap == AIRTIME_NO_CAP ? RANSDN_AIRTIME_SHARE_FULL : st->cap;
	u32 congestion = ((u64)st->congestion_q16 * 1000 + AIRTIME_CF_ONE / 2) >> AIRTIME_CF_SHIFT;

	if (nla_put_u32(msg, A(IFINDEX), s->ifindex) ||
	    nla_put_string(msg, A(IFNAME), s->ifname) ||
	    nla_put_string(msg, A(PHY_NAME), s->phy) ||
	    nla_put_u32(msg, A(SHARE), st->guaranteed) ||
	    nla_put_u32(msg, A(CAP), cap) ||
	    nla_put_u32(msg, A(QUEUE_LIMIT), s->limit) ||
	    nla_put_u64_64bit(msg, A(ESTIMATED_US), airtime_us(st->estimated_ns), A(PAD)) ||
	    nla_put_u64_64bit(msg, A(MEASURED_US), airtime_us(st->charged_ns), A(PAD)) ||
	    nla_put_u64_64bit(msg, A(STATUS_US), airtime_us(st->measured_ns), A(PAD)) ||
	    nla_put_u64_64bit(msg, A(BORROWED_US), airtime_us(st->borrowed_ns), A(PAD)) ||
	    nla_put_s64(msg, A(CREDIT_US), div_s64(st->credit_ns, NSEC_PER_USEC), A(PAD)) ||
	    nla_put_u32(msg, A(CONGESTION), congestion) ||
	    nla_put_u8(msg, A(SOURCE), source) ||
	    nla_put_u32(msg, A(BACKLOG_PACKETS), st->backlog_packets) ||
	    nla_put_u32(msg, A(BACKLOG_BYTES), min_t(u64, st->backlog_bytes, U32_MAX)) ||
	    nla_put_u64_64bit(msg, A(TX_PACKETS), st->tx_packets, A(PAD)) ||
	    nla_put_u64_64bit(msg, A(TX_BYTES), st->tx_bytes, A(PAD)) ||
	    nla_put_u64_64bit(msg, A(DROPS), st->drop_packets, A(PAD)) ||
	    nla_put_u64_64bit(msg, A(THROTTLED_US), airtime_us(st->throttled_ns), A(PAD)) ||
	    nla_put_u64_64bit(msg, A(BACKLOGGED_US), airtime_us(st->backlogged_ns), A(PAD)) ||
	    nla_put_u64_64bit(msg, A(BYPASS_PACKETS), s->bypass_packets, A(PAD)) ||
	    nla_put_u64_64bit(msg, A(STATUS_PACKETS), st->status_packets, A(PAD)) ||
	    nla_put_u64_64bit(msg, A(ESTIMATE_PACKETS), st->estimate_packets, A(PAD)) ||
	    nla_put_u64_64bit(msg, A(UNTRACKED_PACKETS), s->untracked_packets, A(PAD)))
		return -EMSGSIZE;
	return 0;
}

static int airtime_put_phy(struct sk_buff *msg, const struct airtime_phy_snap *s)
{
	if (nla_put_string(msg, A(PHY_NAME), s->name) ||
	    nla_put_u32(msg, A(INTERVAL_US), airtime_us(s->p.interval_ns)) ||
	    nla_put_u32(msg, A(INFLIGHT_BUDGET_US), airtime_us(s->p.inflight_budget_ns)) ||
	    nla_put_u8(msg, A(OVERHEAD_MODEL), s->p.overhead) ||
	    nla_put_u32(msg, A(STALL_US), airtime_us(s->p.stall_ns ?: AIRTIME_STALL_DEFAULT_NS)) ||
	    nla_put_u32(msg, A(INFLIGHT_US), min_t(u64, airtime_us(s->st.inflight_ns), U32_MAX)) ||
	    nla_put_u32(msg, A(INFLIGHT_PACKETS), s->st.inflight_packets) ||
	    nla_put_u32(msg, A(NUM_VIFS), s->st.vifs) ||
	    nla_put_u64_64bit(msg, A(INTERVALS), s->st.intervals, A(PAD)) ||
	    nla_put_u64_64bit(msg, A(AGED_PACKETS), s->aged_packets, A(PAD)) ||
	    (s->tx_status_seen && nla_put_flag(msg, A(TX_STATUS_SEEN))))
		return -EMSGSIZE;
	return 0;
}

/* ---- finding a vif by ifindex ------------------------------------------- */

struct airtime_match {
	int ifindex;
	int (*fn)(struct airtime_phy *phy, struct airtime_qdisc *q, void *arg);
	void *arg;
	bool found;
	int err;
};

static int airtime_match_vif(struct airtime_phy *phy, struct airtime_qdisc *q,
			     void *arg)
{
	struct airtime_match *m = arg;

	if (q->dev->ifindex != m->ifindex)
		return 0;
	m->found = true;
	m->err = m->fn(phy, q, m->arg);
	return 1;
}

/* Run fn on the vif named by the IFINDEX attribute, under its phy's lock. */
static int airtime_with_vif(struct genl_info *info,
			    int (*fn)(struct airtime_phy *phy,
				      struct airtime_qdisc *q, void *arg),
			    void *arg)
{
	struct nlattr *attr = info->attrs[A(IFINDEX)];
	struct airtime_match m = { .fn = fn, .arg = arg };

	if (!attr) {
		NL_SET_ERR_MSG(info->extack, "IFINDEX is required");
		return -EINVAL;
	}
	m.ifindex = nla_get_u32(attr);
	airtime_for_each_vif(genl_info_net(info), airtime_match_vif, &m);
	if (!m.found) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "no airtime qdisc on this interface");
		return -ENODEV;
	}
	return m.err;
}

static int airtime_reply(struct genl_info *info, u8 cmd,
			 int (*put)(struct sk_buff *msg, const void *snap),
			 const void *snap)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &airtime_genl_family, 0, cmd);
	if (!hdr || put(msg, snap)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* ---- GET_PHY / SET_PHY -------------------------------------------------- */

static int airtime_snap_phy_of_vif(struct airtime_phy *phy,
				   struct airtime_qdisc *q, void *arg)
{
	airtime_snap_phy(phy, airtime_now(), arg);
	return 0;
}

static int airtime_put_phy_any(struct sk_buff *msg, const void *snap)
{
	return airtime_put_phy(msg, snap);
}

static int airtime_nl_get_phy(struct sk_buff *skb, struct genl_info *info)
{
	struct airtime_phy_snap snap;
	int err;

	err = airtime_with_vif(info, airtime_snap_phy_of_vif, &snap);
	if (err)
		return err;
	return airtime_reply(info, RANSDN_AIRTIME_CMD_GET_PHY, airtime_put_phy_any, &snap);
}

struct airtime_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	long skip;		/* entries sent by earlier calls */
	long idx;
	int ifindex;		/* filter, 0 for all */
	bool full;
};

static void *airtime_dump_hdr(struct airtime_dump *d, u8 cmd)
{
	return genlmsg_put(d->skb, NETLINK_CB(d->cb->skb).portid,
			   d->cb->nlh->nlmsg_seq, &airtime_genl_family,
			   NLM_F_MULTI, cmd);
}

/* True for an entry an earlier call of the same dump already sent. */
static bool airtime_dump_skip(struct airtime_dump *d)
{
	if (d->idx >= d->skip)
		return false;
	d->idx++;
	return true;
}

/* One entry of a dump; non-zero when the skb is full (the next call resumes). */
static int airtime_dump_put(struct airtime_dump *d, u8 cmd,
			    int (*put)(struct sk_buff *msg, const void *snap),
			    const void *snap)
{
	void *hdr = airtime_dump_hdr(d, cmd);

	if (!hdr)
		return 1;
	if (put(d->skb, snap)) {
		genlmsg_cancel(d->skb, hdr);
		return 1;
	}
	genlmsg_end(d->skb, hdr);
	d->idx++;
	return 0;
}

static int airtime_dump_phy_one(struct airtime_phy *phy, void *arg)
{
	struct airtime_dump *d = arg;
	struct airtime_phy_snap snap;

	if (airtime_dump_skip(d))
		return 0;
	airtime_snap_phy(phy, airtime_now(), &snap);
	return airtime_dump_put(d, RANSDN_AIRTIME_CMD_GET_PHY, airtime_put_phy_any, &snap);
}

static int airtime_nl_dump_phy(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct airtime_dump d = { .skb = skb, .cb = cb, .skip = cb->args[0] };

	airtime_for_each_phy(sock_net(skb->sk), airtime_dump_phy_one, &d);
	cb->args[0] = d.idx;
	return skb->len;
}

struct airtime_set_phy {
	struct genl_info *info;
};

static int airtime_set_phy_locked(struct airtime_phy *phy,
				  struct airtime_qdisc *q, void *arg)
{
	struct genl_info *info = ((struct airtime_set_phy *)arg)->info;
	struct airtime_params params = phy->sched.p;
	struct nlattr **attrs = info->attrs;
	u64 now = airtime_now();
	int err;

	if (attrs[A(INTERVAL_US)])
		params.interval_ns = (u64)nla_get_u32(attrs[A(INTERVAL_US)]) * NSEC_PER_USEC;
	if (attrs[A(INFLIGHT_BUDGET_US)])
		params.inflight_budget_ns =
			(u64)nla_get_u32(attrs[A(INFLIGHT_BUDGET_US)]) * NSEC_PER_USEC;
	if (attrs[A(OVERHEAD_MODEL)])
		params.overhead = nla_get_u8(attrs[A(OVERHEAD_MODEL)]) ==
				  RANSDN_AIRTIME_OVERHEAD_DCF ?
				  AIRTIME_OVERHEAD_DCF : AIRTIME_OVERHEAD_NONE;
	if (attrs[A(STALL_US)])
		params.stall_ns = (u64)nla_get_u32(attrs[A(STALL_US)]) * NSEC_PER_USEC;
	err = airtime_params_validate(&params);
	if (!err)
		err = airtime_sched_set_params(&phy->sched, &params, now);
	if (err) {
		NL_SET_ERR_MSG(info->extack, "the scheduler rejected these parameters");
		return err;
	}
	airtime_phy_wake_locked(phy, now, NULL);
	return 0;
}

static int airtime_nl_set_phy(struct sk_buff *skb, struct genl_info *info)
{
	struct airtime_set_phy arg = { .info = info };

	if (!info->attrs[A(INTERVAL_US)] && !info->attrs[A(INFLIGHT_BUDGET_US)] &&
	    !info->attrs[A(OVERHEAD_MODEL)] && !info->attrs[A(STALL_US)]) {
		NL_SET_ERR_MSG(info->extack, "nothing to set: give INTERVAL_US, INFLIGHT_BUDGET_US, OVERHEAD_MODEL or STALL_US");
		return -EINVAL;
	}
	return airtime_with_vif(info, airtime_set_phy_locked, &arg);
}

/* ---- GET_VIF / SET_VIF -------------------------------------------------- */

static int airtime_snap_vif_cb(struct airtime_phy *phy, struct airtime_qdisc *q,
			       void *arg)
{
	airtime_snap_vif(phy, q, airtime_now(), arg);
	return 0;
}

static int airtime_put_vif_any(struct sk_buff *msg, const void *snap)
{
	return airtime_put_vif(msg, snap);
}

static int airtime_nl_get_vif(struct sk_buff *skb, struct genl_info *info)
{
	struct airtime_vif_snap snap;
	int err;

	err = airtime_with_vif(info, airtime_snap_vif_cb, &snap);
	if (err)
		return err;
	return airtime_reply(info, RANSDN_AIRTIME_CMD_GET_VIF, airtime_put_vif_any, &snap);
}

static int airtime_dump_vif_one(struct airtime_phy *phy, struct airtime_qdisc *q,
				void *arg)
{
	struct airtime_dump *d = arg;
	struct airtime_vif_snap snap;

	if (airtime_dump_skip(d))
		return 0;
	airtime_snap_vif(phy, q, airtime_now(), &snap);
	return airtime_dump_put(d, RANSDN_AIRTIME_CMD_GET_VIF, airtime_put_vif_any, &snap);
}

static int airtime_nl_dump_vif(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct airtime_dump d = { .skb = skb, .cb = cb, .skip = cb->args[0] };

	airtime_for_each_vif(sock_net(skb->sk), airtime_dump_vif_one, &d);
	cb->args[0] = d.idx;
	return skb->len;
}

static int airtime_set_vif_locked(struct airtime_phy *phy,
				  struct airtime_qdisc *q, void *arg)
{
	struct genl_info *info = arg;
	struct nlattr **attrs = info->attrs;
	struct airtime_vif_stats st;
	u64 now = airtime_now();
	u32 guaranteed, cap;
	int err;

	if (attrs[A(SHARE)] || attrs[A(CAP)]) {
		airtime_vif_get_stats(&phy->sched, &q->vif, now, &st);
		guaranteed = attrs[A(SHARE)] ? nla_get_u32(attrs[A(SHARE)]) : st.guaranteed;
		cap = st.cap;
		if (attrs[A(CAP)]) {
			cap = nla_get_u32(attrs[A(CAP)]);
			if (cap == RANSDN_AIRTIME_SHARE_FULL)
				cap = AIRTIME_NO_CAP;
		}
		if (cap != AIRTIME_NO_CAP && cap < guaranteed) {
			NL_SET_ERR_MSG(info->extack, "the cap is below the guaranteed share");
			return -EINVAL;
		}
		err = airtime_vif_set_share(&phy->sched, &q->vif, guaranteed, cap, now);
		if (err) {
			NL_SET_ERR_MSG(info->extack, "the scheduler rejected this share or cap");
			return err;
		}
	}
	if (attrs[A(QUEUE_LIMIT)])
		WRITE_ONCE(q->limit, nla_get_u32(attrs[A(QUEUE_LIMIT)]));
	airtime_phy_wake_locked(phy, now, NULL);
	return 0;
}

static int airtime_nl_set_vif(struct sk_buff *skb, struct genl_info *info)
{
	if (!info->attrs[A(SHARE)] && !info->attrs[A(CAP)] &&
	    !info->attrs[A(QUEUE_LIMIT)]) {
		NL_SET_ERR_MSG(info->extack, "nothing to set: give SHARE, CAP or QUEUE_LIMIT");
		return -EINVAL;
	}
	return airtime_with_vif(info, airtime_set_vif_locked, info);
}

/* ---- GET_STA ------------------------------------------------------------ */

struct airtime_sta_dump {
	struct airtime_dump *d;
	struct airtime_phy *phy;
	struct airtime_qdisc *q;
	struct ieee80211_vif *vif;
};

/* The estimate for a 1500-octet payload, as the YANG leaf defines it. */
#define AIRTIME_REFERENCE_PAYLOAD	1500

static void airtime_dump_sta_one(void *arg, struct ieee80211_sta *sta)
{
	struct airtime_sta_dump *sd = arg;
	struct airtime_dump *d = sd->d;
	struct airtime_rate rate;
	u32 mpdu_len, frame_ns;
	void *hdr;

	if (d->full || ieee80211_find_sta(sd->vif, sta->addr) != sta || airtime_dump_skip(d))
		return;
	mpdu_len = airtime_mpdu_len(ETH_HLEN + AIRTIME_REFERENCE_PAYLOAD, sta->wme);
	airtime_sta_rate(sd->q, sd->vif, sta, mpdu_len, &rate);
	frame_ns = airtime_raw_estimate(&sd->phy->sched, mpdu_len, &rate);

	hdr = airtime_dump_hdr(d, RANSDN_AIRTIME_CMD_GET_STA);
	if (!hdr)
		goto full;
	if (nla_put_u32(d->skb, A(IFINDEX), sd->q->dev->ifindex) ||
	    nla_put_string(d->skb, A(IFNAME), sd->q->dev->name) ||
	    nla_put(d->skb, A(STA_MAC), ETH_ALEN, sta->addr) ||
	    nla_put_u32(d->skb, A(STA_RATE_KBPS), rate.kbps) ||
	    nla_put_u8(d->skb, A(STA_RATE_SOURCE), rate.source) ||
	    nla_put_u32(d->skb, A(STA_FRAME_US), DIV_ROUND_UP(frame_ns, NSEC_PER_USEC))) {
		genlmsg_cancel(d->skb, hdr);
		goto full;
	}
	genlmsg_end(d->skb, hdr);
	d->idx++;
	return;
full:
	d->full = true;
}

static int airtime_dump_sta_vif(struct airtime_phy *phy, struct airtime_qdisc *q,
				void *arg)
{
	struct airtime_sta_dump sd = { .d = arg, .phy = phy, .q = q };

	if (sd.d->ifindex && q->dev->ifindex != sd.d->ifindex)
		return 0;
	rcu_read_lock();
	sd.vif = wdev_to_ieee80211_vif(q->dev->ieee80211_ptr);
	if (sd.vif)
		ieee80211_iterate_stations_atomic(phy->hw, airtime_dump_sta_one, &sd);
	rcu_read_unlock();
	return sd.d->full;
}

static int airtime_nl_dump_sta(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct airtime_dump d = { .skb = skb, .cb = cb, .skip = cb->args[0] };

	if (info->attrs && info->attrs[A(IFINDEX)])
		d.ifindex = nla_get_u32(info->attrs[A(IFINDEX)]);
	airtime_for_each_vif(sock_net(skb->sk), airtime_dump_sta_vif, &d);
	cb->args[0] = d.idx;
	return skb->len;
}

/* ---- the periodic report ------------------------------------------------ */

struct airtime_report {
	struct airtime_phy_snap phy;
	unsigned int n;
	struct net *net;
	struct airtime_vif_snap vif[AIRTIME_MAX_VIFS];
};

void airtime_netlink_report(struct airtime_phy *phy)
{
	struct airtime_report *r;
	struct sk_buff *msg;
	unsigned long flags;
	unsigned int slot, i;
	u64 now;
	void *hdr;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return;
	now = airtime_now();
	spin_lock_irqsave(&phy->lock, flags);
	airtime_snap_phy(phy, now, &r->phy);
	for (slot = 0; slot < AIRTIME_MAX_VIFS; slot++) {
		struct airtime_qdisc *q = phy->qdiscs[slot];

		if (!q)
			continue;
		if (!r->net)
			r->net = get_net(dev_net(q->dev));
		airtime_snap_vif(phy, q, now, &r->vif[r->n++]);
	}
	spin_unlock_irqrestore(&phy->lock, flags);

	if (!r->net || !genl_has_listeners(&airtime_genl_family, r->net, 0))
		goto out;
	msg = genlmsg_new(1024 + r->n * 512, GFP_KERNEL);
	if (!msg)
		goto out;
	hdr = genlmsg_put(msg, 0, 0, &airtime_genl_family, 0, RANSDN_AIRTIME_CMD_REPORT);
	if (!hdr || airtime_put_phy(msg, &r->phy) ||
	    nla_put_u64_64bit(msg, A(TIMESTAMP_NS), now, A(PAD)))
		goto cancel;
	for (i = 0; i < r->n; i++) {
		struct nlattr *nest = nla_nest_start(msg, A(VIF));

		if (!nest || airtime_put_vif(msg, &r->vif[i]))
			goto cancel;
		nla_nest_end(msg, nest);
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&airtime_genl_family, r->net, msg, 0, 0, GFP_KERNEL);
	goto out;
cancel:
	nlmsg_free(msg);
out:
	if (r->net)
		put_net(r->net);
	kfree(r);
}

/* ---- the family --------------------------------------------------------- */

static const struct genl_ops airtime_genl_ops[] = {
	{
		.cmd = RANSDN_AIRTIME_CMD_GET_PHY,
		.doit = airtime_nl_get_phy,
		.dumpit = airtime_nl_dump_phy,
		.policy = airtime_get_policy,
		.maxattr = A(MAX),
	},
	{
		.cmd = RANSDN_AIRTIME_CMD_SET_PHY,
		.doit = airtime_nl_set_phy,
		.policy = airtime_set_phy_policy,
		.maxattr = A(MAX),
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = RANSDN_AIRTIME_CMD_GET_VIF,
		.doit = airtime_nl_get_vif,
		.dumpit = airtime_nl_dump_vif,
		.policy = airtime_get_policy,
		.maxattr = A(MAX),
	},
	{
		.cmd = RANSDN_AIRTIME_CMD_SET_VIF,
		.doit = airtime_nl_set_vif,
		.policy = airtime_set_vif_policy,
		.maxattr = A(MAX),
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = RANSDN_AIRTIME_CMD_GET_STA,
		.dumpit = airtime_nl_dump_sta,
		.policy = airtime_get_policy,
		.maxattr = A(MAX),
	},
};

static const struct genl_multicast_group airtime_mcgrps[] = {
	{ .name = RANSDN_AIRTIME_MCGRP_REPORT },
};

static struct genl_family airtime_genl_family __ro_after_init = {
	.name = RANSDN_AIRTIME_GENL_NAME,
	.version = RANSDN_AIRTIME_GENL_VERSION,
	.maxattr = A(MAX),
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = airtime_genl_ops,
	.n_ops = ARRAY_SIZE(airtime_genl_ops),
	.mcgrps = airtime_mcgrps,
	.n_mcgrps = ARRAY_SIZE(airtime_mcgrps),
};

int airtime_netlink_init(void)
{
	return genl_register_family(&airtime_genl_family);
}

void airtime_netlink_exit(void)
{
	genl_unregister_family(&airtime_genl_family);
}
