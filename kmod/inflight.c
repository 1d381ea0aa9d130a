// SPDX-License-Identifier: GPL-2.0
/*
 * Records of frames in flight and the skb destructor that completes them.
 */
#include <linux/hashtable.h>
#include <linux/slab.h>

#include "inflight.h"
#include "estimate.h"
#include "phy.h"

/*
 * Bounds the memory for records; frames beyond it are not followed (their
 * estimate stands and they leave the in-flight budget at once).
 */
#define AIRTIME_INFLIGHT_MAX		16384
#define AIRTIME_INFLIGHT_HASH_BITS	10
/* A frame out longer than this no longer holds the budget... */
#define AIRTIME_INFLIGHT_AGE_MIN_NS	(20 * NSEC_PER_MSEC)
/* ...nor longer than this many budgets' worth of time. */
#define AIRTIME_INFLIGHT_AGE_BUDGETS	4

static DEFINE_HASHTABLE(airtime_inflight_hash, AIRTIME_INFLIGHT_HASH_BITS);
static DEFINE_SPINLOCK(airtime_inflight_lock);
static struct kmem_cache *airtime_inflight_cache;
static atomic_t airtime_inflight_records = ATOMIC_INIT(0);

int airtime_inflight_module_init(void)
{
	airtime_inflight_cache = KMEM_CACHE(airtime_inflight, 0);
	return airtime_inflight_cache ? 0 : -ENOMEM;
}

void airtime_inflight_module_exit(void)
{
	/* Every record holds a module reference through its phy. */
	WARN_ON(atomic_read(&airtime_inflight_records));
	kmem_cache_destroy(airtime_inflight_cache);
}

unsigned int airtime_inflight_count(void)
{
	return atomic_read(&airtime_inflight_records);
}

struct airtime_inflight *airtime_inflight_alloc(void)
{
	struct airtime_inflight *rec;

	if (atomic_inc_return(&airtime_inflight_records) > AIRTIME_INFLIGHT_MAX)
		goto full;
	rec = kmem_cache_alloc(airtime_inflight_cache, GFP_ATOMIC);
	if (rec)
		return rec;
full:
	atomic_dec(&airtime_inflight_records);
	return NULL;
}

void airtime_inflight_free(struct airtime_inflight *rec)
{
	kmem_cache_free(airtime_inflight_cache, rec);
	atomic_dec(&airtime_inflight_records);
}

u64 airtime_inflight_max_age(const struct airtime_phy *phy)
{
	return max_t(u64, AIRTIME_INFLIGHT_AGE_MIN_NS,
		     AIRTIME_INFLIGHT_AGE_BUDGETS * phy->sched.p.inflight_budget_ns);
}

void airtime_inflight_track_locked(struct airtime_phy *phy,
				   struct airtime_inflight *rec,
				   const struct airtime_tx *tx, u64 now)
{
	rec->phy = phy;
	rec->tx = *tx;
	rec->since = now;
	rec->released = false;
	rec->skb = NULL;
	list_add_tail(&rec->age_node, &phy->inflight);
	airtime_phy_hold(phy);
}

u64 airtime_inflight_age_locked(struct airtime_phy *phy, u64 now)
{
	u64 max_age = airtime_inflight_max_age(phy);
	struct airtime_inflight *rec;

	while ((rec = list_first_entry_or_null(&phy->inflight,
					       struct airtime_inflight, age_node))) {
		if (now - rec->since < max_age)
			return rec->since + max_age;
		list_del_init(&rec->age_node);
		rec->released = true;
		phy->aged_packets++;
		airtime_tx_complete(&phy->sched, &rec->tx, 0, now);
	}
	return U64_MAX;
}

static struct airtime_inflight *airtime_inflight_take(const struct sk_buff *skb)
{
	struct airtime_inflight *rec;
	unsigned long flags;

	spin_lock_irqsave(&airtime_inflight_lock, flags);
	hash_for_each_possible(airtime_inflight_hash, rec, node, (unsigned long)skb) {
		if (rec->skb == skb) {
			hash_del(&rec->node);
			spin_unlock_irqrestore(&airtime_inflight_lock, flags);
			return rec;
		}
	}
	spin_unlock_irqrestore(&airtime_inflight_lock, flags);
	return NULL;
}

/* Return rec's airtime to its phy; skb is the completed frame, if any. */
static void airtime_inflight_complete(struct airtime_inflight *rec,
				      struct sk_buff *skb)
{
	struct airtime_phy *phy = rec->phy;
	unsigned long flags;
	u32 measured = 0;
	u64 now = airtime_now();

	spin_lock_irqsave(&phy->lock, flags);
	if (!rec->released) {
		list_del_init(&rec->age_node);
		if (skb && skb->wifi_acked_valid) {
			measured = airtime_status_ns(&phy->sched, phy->hw, skb);
			if (measured)
				phy->tx_status_seen = true;
		}
		airtime_tx_complete(&phy->sched, &rec->tx, measured, now);
		airtime_phy_wake_locked(phy, now, NULL);
	}
	spin_unlock_irqrestore(&phy->lock, flags);

	airtime_inflight_free(rec);
	airtime_phy_put(phy);
}

/*
 * Runs when the driver (or anyone) frees or orphans the frame: after TX
 * status for drivers that report it, or earlier, e.g. when hwsim's
 * built-in medium orphans the frame on transmission.  Interrupts may be
 * off; we are never in hard interrupt context (skb_release_head_state()
 * warns about that).
 */
static void airtime_skb_destructor(struct sk_buff *skb)
{
	struct airtime_inflight *rec = airtime_inflight_take(skb);

	if (WARN_ON_ONCE(!rec))
		return;
	airtime_inflight_complete(rec, skb);
}

void airtime_inflight_arm(struct airtime_inflight *rec, struct sk_buff *skb)
{
	struct airtime_inflight *stale;
	unsigned long flags;

	/*
	 * A record for this address can only be left over if someone
	 * dropped our destructor without calling it; its frame is gone.
	 */
	stale = airtime_inflight_take(skb);
	if (WARN_ON_ONCE(stale))
		airtime_inflight_complete(stale, NULL);

	rec->skb = skb;
	spin_lock_irqsave(&airtime_inflight_lock, flags);
	hash_add(airtime_inflight_hash, &rec->node, (unsigned long)skb);
	spin_unlock_irqrestore(&airtime_inflight_lock, flags);

	/* mac80211 sets wifi_acked_valid only for frames with a destructor. */
	skb->wifi_acked_valid = 0;
	skb->destructor = airtime_skb_destructor;
}
