// SPDX-License-Identifier: GPL-2.0
/*
 * Frame airtime estimates and TX-status airtime.
 */
#include <linux/ieee80211.h>
#include <linux/slab.h>
#include <net/cfg80211.h>

#include "estimate.h"
#include "qdisc.h"
#include "uapi/ransdn_airtime.h"

bool airtime_force_station_info;

/* mac80211's PPDU helpers include one SIFS, which the overhead model adds. */
#define AIRTIME_MAC80211_SIFS_US	16

/* A station-info rate older than this is read again. */
#define AIRTIME_STA_CACHE_TTL		HZ

/* 802.11 data header (3 addresses), LLC/SNAP, FCS; plus QoS control. */
#define AIRTIME_MPDU_OVERHEAD		(24 + 8 + FCS_LEN - ETH_HLEN)
#define AIRTIME_QOS_CTL_LEN		2

u32 airtime_mpdu_len(unsigned int eth_len, bool qos)
{
	if (eth_len < ETH_HLEN)
		eth_len = ETH_HLEN;
	return eth_len + AIRTIME_MPDU_OVERHEAD + (qos ? AIRTIME_QOS_CTL_LEN : 0);
}

/*
 * Rate from a rate-table or TX-status entry (index plus IEEE80211_TX_RC_*
 * flags).  Legacy rates leave the PPDU to the core; HT and VHT take it
 * from mac80211, which knows their symbol and preamble layouts.
 */
static bool airtime_txrate(struct ieee80211_hw *hw, enum nl80211_band band,
			   s8 idx, u16 flags, u32 mpdu_len,
			   struct airtime_rate *rate)
{
	struct ieee80211_supported_band *sband = hw->wiphy->bands[band];
	struct ieee80211_rx_status st = {};
	struct rate_info ri = {};
	u32 us;

	if (idx < 0 || !sband)
		return false;
	if (!(flags & (IEEE80211_TX_RC_MCS | IEEE80211_TX_RC_VHT_MCS))) {
		if (idx >= sband->n_bitrates)
			return false;
		rate->kbps = sband->bitrates[idx].bitrate * 100;
		rate->ppdu_ns = 0;
		return true;
	}

	st.band = band;
	if (flags & IEEE80211_TX_RC_VHT_MCS) {
		struct ieee80211_tx_rate txr = { .idx = idx, .flags = flags };

		ri.flags = RATE_INFO_FLAGS_VHT_MCS;
		ri.mcs = ieee80211_rate_get_vht_mcs(&txr);
		ri.nss = ieee80211_rate_get_vht_nss(&txr);
		st.encoding = RX_ENC_VHT;
		st.rate_idx = ri.mcs;
		st.nss = ri.nss;
	} else {
		ri.flags = RATE_INFO_FLAGS_MCS;
		ri.mcs = idx;
		st.encoding = RX_ENC_HT;
		st.rate_idx = idx;
	}
	if (flags & IEEE80211_TX_RC_SHORT_GI) {
		ri.flags |= RATE_INFO_FLAGS_SHORT_GI;
		st.enc_flags |= RX_ENC_FLAG_SHORT_GI;
	}
	if (flags & IEEE80211_TX_RC_160_MHZ_WIDTH)
		ri.bw = RATE_INFO_BW_160;
	else if (flags & IEEE80211_TX_RC_80_MHZ_WIDTH)
		ri.bw = RATE_INFO_BW_80;
	else if (flags & IEEE80211_TX_RC_40_MHZ_WIDTH)
		ri.bw = RATE_INFO_BW_40;
	else
		ri.bw = RATE_INFO_BW_20;
	st.bw = ri.bw;

	rate->kbps = cfg80211_calculate_bitrate(&ri) * 100;
	us = ieee80211_calc_rx_airtime(hw, &st, mpdu_len);
	if (!rate->kbps || !us)
		return false;
	if (us > AIRTIME_MAC80211_SIFS_US)
		us -= AIRTIME_MAC80211_SIFS_US;
	rate->ppdu_ns = us * NSEC_PER_USEC;
	return true;
}

static void airtime_basic_rate(struct ieee80211_hw *hw, struct ieee80211_vif *vif,
			       enum nl80211_band band, struct airtime_rate *rate)
{
	u32 basic = vif ? vif->bss_conf.basic_rates : 0;

	rate->source = RANSDN_AIRTIME_RATE_BASIC;
	rate->ppdu_ns = 0;
	rate->kbps = AIRTIME_FALLBACK_RATE_KBPS;
	if (basic && !airtime_txrate(hw, band, __ffs(basic), 0, 0, rate))
		rate->kbps = AIRTIME_FALLBACK_RATE_KBPS;
}

/* The cached station-info rate of addr; asks the work item for it. */
static u32 airtime_sta_cache_get(struct airtime_sta_cache *c, const u8 *addr)
{
	struct airtime_sta_rate *e, *victim = NULL;
	unsigned long flags, now = jiffies;
	bool queue = false;
	u32 kbps = 0;
	int i;

	spin_lock_irqsave(&c->lock, flags);
	for (i = 0; i < AIRTIME_STA_CACHE_SIZE; i++) {
		e = &c->entry[i];
		if (ether_addr_equal(e->addr, addr)) {
			victim = NULL;
			kbps = e->kbps;
			if (!e->wanted && time_after(now, e->updated + AIRTIME_STA_CACHE_TTL))
				queue = e->wanted = true;
			goto out;
		}
		if (!victim || time_before(e->updated, victim->updated))
			victim = e;
	}
	ether_addr_copy(victim->addr, addr);
	victim->kbps = 0;
	victim->updated = now;
	queue = victim->wanted = true;
out:
	spin_unlock_irqrestore(&c->lock, flags);
	if (queue)
		schedule_work(&c->work);
	return kbps;
}

static void airtime_sta_cache_work(struct work_struct *work)
{
	struct airtime_sta_cache *c = container_of(work, struct airtime_sta_cache, work);
	struct station_info *sinfo;
	unsigned long flags;
	u8 addr[ETH_ALEN];
	int i;

	sinfo = kzalloc(sizeof(*sinfo), GFP_KERNEL);
	if (!sinfo)
		return;
	for (i = 0; i < AIRTIME_STA_CACHE_SIZE; i++) {
		u32 kbps = 0;

		spin_lock_irqsave(&c->lock, flags);
		if (!c->entry[i].wanted) {
			spin_unlock_irqrestore(&c->lock, flags);
			continue;
		}
		c->entry[i].wanted = false;
		ether_addr_copy(addr, c->entry[i].addr);
		spin_unlock_irqrestore(&c->lock, flags);

		memset(sinfo, 0, sizeof(*sinfo));
		if (!cfg80211_get_station(c->dev, addr, sinfo) &&
		    (sinfo->filled & BIT_ULL(NL80211_STA_INFO_TX_BITRATE)))
			kbps = cfg80211_calculate_bitrate(&sinfo->txrate) * 100;
		cfg80211_sinfo_release_content(sinfo);

		spin_lock_irqsave(&c->lock, flags);
		if (ether_addr_equal(c->entry[i].addr, addr)) {
			c->entry[i].kbps = kbps;
			c->entry[i].updated = jiffies;
		}
		spin_unlock_irqrestore(&c->lock, flags);
	}
	kfree(sinfo);
}

void airtime_sta_cache_init(struct airtime_sta_cache *c, struct net_device *dev)
{
	spin_lock_init(&c->lock);
	c->dev = dev;
	INIT_WORK(&c->work, airtime_sta_cache_work);
	memset(c->entry, 0, sizeof(c->entry));
}

void airtime_sta_cache_destroy(struct airtime_sta_cache *c)
{
	if (c->dev)
		cancel_work_sync(&c->work);
}

void airtime_sta_rate(struct airtime_qdisc *q, struct ieee80211_vif *vif,
		      struct ieee80211_sta *sta, u32 mpdu_len,
		      struct airtime_rate *rate)
{
	struct ieee80211_hw *hw = wiphy_to_ieee80211_hw(q->dev->ieee80211_ptr->wiphy);
	struct ieee80211_sta_rates *table = rcu_dereference(sta->rates);
	enum nl80211_band band = NL80211_BAND_2GHZ;
	u32 kbps;

	if (vif->bss_conf.chandef.chan)
		band = vif->bss_conf.chandef.chan->band;

	if (table && !airtime_force_station_info &&
	    airtime_txrate(hw, band, table->rate[0].idx, table->rate[0].flags,
			   mpdu_len, rate)) {
		rate->source = RANSDN_AIRTIME_RATE_TABLE;
		return;
	}
	kbps = airtime_sta_cache_get(&q->stations, sta->addr);
	if (kbps) {
		rate->kbps = kbps;
		rate->ppdu_ns = 0;
		rate->source = RANSDN_AIRTIME_RATE_STATION_INFO;
		return;
	}
	airtime_basic_rate(hw, vif, band, rate);
}

void airtime_frame_rate(struct airtime_qdisc *q, const struct sk_buff *skb,
			struct airtime_rate *rate, u32 *mpdu_len)
{
	struct wireless_dev *wdev = q->dev->ieee80211_ptr;
	struct ieee80211_hw *hw = wiphy_to_ieee80211_hw(wdev->wiphy);
	const struct ethhdr *eth = (const struct ethhdr *)skb->data;
	enum nl80211_band band = NL80211_BAND_2GHZ;
	struct ieee80211_vif *vif;
	struct ieee80211_sta *sta = NULL;

	*mpdu_len = airtime_mpdu_len(skb->len, false);
	rcu_read_lock();
	vif = wdev_to_ieee80211_vif(wdev);
	if (vif && vif->bss_conf.chandef.chan)
		band = vif->bss_conf.chandef.chan->band;
	if (vif && skb->len >= ETH_HLEN && !is_multicast_ether_addr(eth->h_dest))
		sta = ieee80211_find_sta(vif, eth->h_dest);
	if (sta) {
		*mpdu_len = airtime_mpdu_len(skb->len, sta->wme);
		airtime_sta_rate(q, vif, sta, *mpdu_len, rate);
	} else {
		/* Group-addressed, or to no associated station: the lowest
		 * basic rate, which is what mac80211 uses for both.
		 */
		airtime_basic_rate(hw, vif, band, rate);
	}
	rcu_read_unlock();
}

u32 airtime_raw_estimate(const struct airtime_sched *s, u32 mpdu_len,
			 const struct airtime_rate *rate)
{
	u64 ns;

	if (!rate->ppdu_ns)
		return airtime_estimate_ns(s, mpdu_len, rate->kbps ?: AIRTIME_FALLBACK_RATE_KBPS);
	ns = (u64)rate->ppdu_ns + airtime_overhead_ns(s->p.overhead, s->p.band, rate->kbps);
	return min_t(u64, ns, U32_MAX);
}

u32 airtime_status_ns(const struct airtime_sched *s, struct ieee80211_hw *hw,
		      struct sk_buff *skb)
{
	struct ieee80211_tx_info *info = IEEE80211_SKB_CB(skb);
	u32 mpdu_len = skb->len + FCS_LEN;
	u64 total = 0;
	int i;

	for (i = 0; i < IEEE80211_TX_MAX_RATES; i++) {
		struct ieee80211_tx_rate *r = &info->status.rates[i];
		struct airtime_rate rate;
		u64 per;

		if (r->idx < 0 || !r->count)
			break;
		if (!airtime_txrate(hw, info->band, r->idx, r->flags, mpdu_len, &rate))
			break;
		per = airtime_raw_estimate(s, mpdu_len, &rate);
		/* In an A-MPDU the channel access is shared by the subframes. */
		if ((info->flags & IEEE80211_TX_STAT_AMPDU) && info->status.ampdu_len > 1) {
			u64 ovh = airtime_overhead_ns(s->p.overhead, s->p.band, rate.kbps);

			per = per - min(per, ovh) + div_u64(ovh, info->status.ampdu_len);
		}
		total += per * r->count;
	}
	return min_t(u64, total, U32_MAX);
}
