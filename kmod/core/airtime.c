// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ransdn local airtime scheduler: credit, borrowing, in-flight and
 * congestion arithmetic.  No kernel headers; see airtime.h for the
 * contract and README.md for why the rules are what they are.
 */
#include "airtime.h"

#define VIF_REGISTERED	0x01
#define VIF_HELD	0x02	/* throttled since held_since */

#define CLASS_GUARANTEED	0	/* credit left: served first */
#define CLASS_BORROWING		1	/* credit spent: shares what is left */

/* Wrap-safe ordering of u64 instants (like the kernel's time_before64). */
static inline bool at_before(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

static inline u64 at_min(u64 a, u64 b)
{
	return at_before(a, b) ? a : b;
}

static inline u64 sat_add(u64 a, u64 b)
{
	return a + b < a ? U64_MAX : a + b;
}

/* a + d for a signed correction d, clamped to [0, U64_MAX]. */
static inline u64 sat_add_signed(u64 a, s64 d)
{
	if (d >= 0)
		return sat_add(a, (u64)d);
	return (u64)-d > a ? 0 : a - (u64)-d;
}

static inline u64 ivl_end(const struct airtime_sched *s)
{
	return s->ivl_start + s->p.interval_ns;
}

static inline bool vif_capped(const struct airtime_vif *v)
{
	return v->ivl_used_ns >= v->cap_ns;
}

static inline int vif_class(const struct airtime_vif *v)
{
	return v->credit_ns > 0 ? CLASS_GUARANTEED : CLASS_BORROWING;
}

/* Contending: has frames and may send in this interval. */
static inline bool vif_contending(const struct airtime_vif *v)
{
	return v->backlog_packets && !vif_capped(v);
}

/* ---- Parameters --------------------------------------------------------- */

void airtime_params_default(struct airtime_params *p)
{
	memset(p, 0, sizeof(*p));
	p->interval_ns = 100000000ULL;
	p->inflight_budget_ns = 4000000ULL;
	p->stall_ns = AIRTIME_STALL_DEFAULT_NS;
	p->overhead = AIRTIME_OVERHEAD_DCF;
	p->band = AIRTIME_BAND_5GHZ;
	p->cf_ewma_shift = AIRTIME_CF_EWMA_DEFAULT;
}

/* Validate *in and write it to *out with defaults filled in. */
static int params_normalize(const struct airtime_params *in,
			    struct airtime_params *out)
{
	struct airtime_params p = *in;

	if (!p.stall_ns)
		p.stall_ns = AIRTIME_STALL_DEFAULT_NS;
	if (!p.cf_ewma_shift)
		p.cf_ewma_shift = AIRTIME_CF_EWMA_DEFAULT;
	if (p.interval_ns < AIRTIME_INTERVAL_MIN_NS ||
	    p.interval_ns > AIRTIME_INTERVAL_MAX_NS ||
	    p.inflight_budget_ns < AIRTIME_BUDGET_MIN_NS ||
	    p.inflight_budget_ns > AIRTIME_BUDGET_MAX_NS ||
	    p.stall_ns < AIRTIME_STALL_MIN_NS ||
	    p.stall_ns > AIRTIME_STALL_MAX_NS ||
	    p.overhead > AIRTIME_OVERHEAD_DCF ||
	    p.band > AIRTIME_BAND_2GHZ ||
	    p.cf_ewma_shift > AIRTIME_CF_EWMA_MAX ||
	    p.reserved)
		return -EINVAL;
	if (out)
		*out = p;
	return 0;
}

int airtime_params_validate(const struct airtime_params *p)
{
	return params_normalize(p, NULL);
}

static int shares_validate(u32 guaranteed, u32 cap)
{
	if (guaranteed > AIRTIME_SHARE_ONE)
		return -EINVAL;
	if (cap != AIRTIME_NO_CAP && (cap > AIRTIME_SHARE_ONE || cap < guaranteed))
		return -EINVAL;
	return 0;
}

/* ---- Accounting of backlogged and throttled time ------------------------- */

static void vif_set_held(struct airtime_vif *v, bool held, u64 now)
{
	if (held && !(v->flags & VIF_HELD)) {
		v->flags |= VIF_HELD;
		v->held_since = now;
	} else if (!held && (v->flags & VIF_HELD)) {
		v->flags &= ~VIF_HELD;
		v->throttled_ns = sat_add(v->throttled_ns, now - v->held_since);
	}
}

/* The vif's queue became empty. */
static void vif_drained(struct airtime_sched *s, struct airtime_vif *v, u64 now)
{
	v->backlogged_ns = sat_add(v->backlogged_ns, now - v->backlog_since);
	vif_set_held(v, false, now);
	s->waiting_mask &= ~(1U << v->slot);
}

/* ---- The view: who contends, per class, at one instant ------------------- */

struct airtime_view {
	u32 present;		/* contending vifs taken into account */
	u32 classes;		/* bit c: some present vif is in class c */
	u64 vmin[2];		/* least virtual time per class */
};

/*
 * A contending vif counts while it shows it is being served: it polled
 * within stall_ns, or it waits on us (we wake it).  A vif whose qdisc
 * stopped polling (its netdev queue stopped) must not block the others
 * with its priority for longer than stall_ns.
 */
static bool vif_present(const struct airtime_sched *s,
			const struct airtime_vif *v, u64 now)
{
	if (s->waiting_mask & (1U << v->slot))
		return true;
	return !at_before(v->last_poll + s->p.stall_ns, now);
}

static void view_build(const struct airtime_sched *s, u64 now, bool everyone,
		       struct airtime_view *w)
{
	u32 m = s->active_mask;

	w->present = 0;
	w->classes = 0;
	w->vmin[0] = 0;
	w->vmin[1] = 0;
	while (m) {
		u32 i = __builtin_ctz(m);
		const struct airtime_vif *v = s->vifs[i];
		int c;

		m &= m - 1;
		if (!vif_contending(v))
			continue;
		if (!everyone && !vif_present(s, v, now))
			continue;
		c = vif_class(v);
		if (!(w->classes & (1U << c)) || at_before(v->vtime[c], w->vmin[c]))
			w->vmin[c] = v->vtime[c];
		w->classes |= 1U << c;
		w->present |= 1U << i;
	}
}

/* ---- In-flight budget ----------------------------------------------------- */

static u64 vclock_lead(const struct airtime_sched *s, u64 now)
{
	return at_before(now, s->vclock) ? s->vclock - now : 0;
}

/*
 * Open while both the airtime of frames not yet completed and the lead of
 * the virtual channel clock over real time are below the budget.  The
 * second bound is what paces a driver that completes frames at once.
 */
static bool inflight_open(const struct airtime_sched *s, u64 now, u64 *wake)
{
	u64 budget = s->p.inflight_budget_ns;
	u64 lead = vclock_lead(s, now);

	if (s->outstanding_ns < budget && lead < budget)
		return true;
	/* Outstanding frames reopen it on completion, which wakes waiters. */
	*wake = ivl_end(s);
	if (lead >= budget)
		*wake = at_min(*wake, s->vclock - budget + 1);
	return false;
}

/* ---- The policy ------------------------------------------------------------ */

/*
 * Judge one vif against a view that includes it.  *held says whether the
 * vif is throttled (cap, or priority of vifs within their guarantee), as
 * opposed to waiting for the radio or for its fair turn.
 */
static enum airtime_verdict judge(const struct airtime_sched *s,
				  const struct airtime_view *w,
				  const struct airtime_vif *v, u64 now,
				  u64 *wake, bool *held)
{
	int c;

	*held = false;
	*wake = ivl_end(s);
	if (!v->backlog_packets)
		return AIRTIME_IDLE;
	if (vif_capped(v)) {
		*held = true;
		return AIRTIME_WAIT_CAP;
	}
	c = vif_class(v);
	if (c == CLASS_BORROWING && (w->classes & (1U << CLASS_GUARANTEED))) {
		*held = true;
		return AIRTIME_WAIT_TURN;
	}
	if (!inflight_open(s, now, wake))
		return AIRTIME_WAIT_INFLIGHT;
	/* Fair turn within the class: at most one quantum ahead of the least. */
	if (v->vtime[c] - w->vmin[c] > s->p.inflight_budget_ns)
		return AIRTIME_WAIT_TURN;
	return AIRTIME_SEND;
}

/*
 * For a vif waiting its turn: the earliest time one of the vifs ahead of
 * it may stop counting as present.  A vif we woke but that does not poll
 * counts from the kick, which may come after this, so wait no longer
 * than stall_ns in any case.
 */
static u64 turn_deadline(const struct airtime_sched *s,
			 const struct airtime_view *w,
			 const struct airtime_vif *v, u64 now, u64 wake)
{
	u32 m = w->present & ~s->waiting_mask & ~(1U << v->slot);

	wake = at_min(wake, now + s->p.stall_ns + 1);
	while (m) {
		const struct airtime_vif *o = s->vifs[__builtin_ctz(m)];

		m &= m - 1;
		wake = at_min(wake, o->last_poll + s->p.stall_ns + 1);
	}
	return wake;
}

/*
 * Mark waiting vifs that may send now as to be woken.  view is the view
 * at now if the caller has one, or NULL.
 */
static void wake_check_view(struct airtime_sched *s, u64 now,
			    const struct airtime_view *view)
{
	struct airtime_view w;
	u32 m = s->waiting_mask;

	if (!m)
		return;
	if (view)
		w = *view;
	else
		view_build(s, now, false, &w);
	while (m) {
		u32 i = __builtin_ctz(m);
		struct airtime_vif *v = s->vifs[i];
		u64 wake;
		bool held;

		m &= m - 1;
		switch (judge(s, &w, v, now, &wake, &held)) {
		case AIRTIME_SEND:
			break;
		case AIRTIME_WAIT_INFLIGHT:
			/*
			 * Only the budget holds it back now, but it sleeps past
			 * the time the budget reopens: kick it so that it arms
			 * its watchdog for that time.
			 */
			if (at_before(wake, v->wake_at))
				break;
			continue;
		default:
			continue;
		}
		s->waiting_mask &= ~(1U << i);
		s->wake_mask |= 1U << i;
		/* It is being kicked: it counts as present until it polls. */
		v->last_poll = now;
	}
}

static void wake_check(struct airtime_sched *s, u64 now)
{
	wake_check_view(s, now, NULL);
}

/*
 * A vif that starts contending again after an idle spell (or after its
 * cap held it out) gets virtual times within one quantum above the least
 * of the vifs contending now, whatever their class: it neither bursts on
 * virtual time it fell behind by while out nor pays for service it got
 * long ago.
 */
static void vif_activate(struct airtime_sched *s, struct airtime_vif *v)
{
	u64 q = s->p.inflight_budget_ns, vmin[2] = { 0, 0 };
	u32 m = s->active_mask & ~(1U << v->slot);
	bool any = false;
	int c;

	while (m) {
		const struct airtime_vif *o = s->vifs[__builtin_ctz(m)];

		m &= m - 1;
		if (!vif_contending(o))
			continue;
		for (c = 0; c < 2; c++)
			if (!any || at_before(o->vtime[c], vmin[c]))
				vmin[c] = o->vtime[c];
		any = true;
	}
	for (c = 0; any && c < 2; c++) {
		if (at_before(v->vtime[c], vmin[c]))
			v->vtime[c] = vmin[c];
		else if (v->vtime[c] - vmin[c] > q)
			v->vtime[c] = vmin[c] + q;
	}
}

/* ---- Intervals -------------------------------------------------------------- */

static void vif_refill(struct airtime_vif *v, bool contiguous)
{
	s64 carry = contiguous && v->credit_ns < 0 ? v->credit_ns : 0;

	/* Unused credit expires; a deficit from the last frame carries. */
	v->credit_ns = carry + (s64)v->quota_ns;
	if (v->cap_ns != U64_MAX && contiguous && v->ivl_used_ns > v->cap_ns)
		v->ivl_used_ns -= v->cap_ns;
	else
		v->ivl_used_ns = 0;
	v->ivl_charged_ns = 0;
	v->ivl_borrowed_ns = 0;
}

u64 airtime_sched_advance(struct airtime_sched *s, u64 now)
{
	u64 t = s->p.interval_ns, n;
	u32 m, back = s->active_mask;

	if (at_before(now, ivl_end(s)))
		return 0;
	n = airtime_div64(now - s->ivl_start, t);
	s->ivl_start += n * t;
	s->intervals += n;
	/*
	 * Virtual times run on across intervals: every vif's guaranteed round
	 * advances by its whole credit each interval, so they stay level, and
	 * borrowing stays proportional over the long run, not just within one
	 * interval, whatever the frame sizes.
	 */
	m = s->active_mask;
	while (m) {
		u32 i = __builtin_ctz(m);
		struct airtime_vif *v = s->vifs[i];

		m &= m - 1;
		if (vif_contending(v))
			back &= ~(1U << i);
		vif_refill(v, n == 1);
		if (!vif_contending(v))
			back &= ~(1U << i);
	}
	/* Vifs whose cap held them out return like vifs back from idle. */
	while (back) {
		vif_activate(s, s->vifs[__builtin_ctz(back)]);
		back &= back - 1;
	}
	wake_check(s, now);
	return n;
}

u64 airtime_sched_interval_end(const struct airtime_sched *s)
{
	return ivl_end(s);
}

/* ---- Radio ------------------------------------------------------------------ */

int airtime_sched_init(struct airtime_sched *s, const struct airtime_params *p,
		       u64 now)
{
	struct airtime_params np;
	int err = params_normalize(p, &np);

	if (err)
		return err;
	memset(s, 0, sizeof(*s));
	s->p = np;
	s->ivl_start = now;
	s->vclock = now;
	return 0;
}

/* Derive the per-interval amounts of a vif from its shares. */
static void vif_apply_shares(const struct airtime_sched *s,
			     struct airtime_vif *v, u32 guaranteed, u32 cap)
{
	u64 t = s->p.interval_ns;

	v->guaranteed = guaranteed;
	v->cap = cap;
	v->quota_ns = airtime_div64(t * guaranteed, AIRTIME_SHARE_ONE);
	v->cap_ns = cap == AIRTIME_NO_CAP ? U64_MAX :
		airtime_div64(t * cap, AIRTIME_SHARE_ONE);
	/* A vif guaranteed nothing borrows with the least weight there is. */
	v->vt_mult = airtime_div64((u64)AIRTIME_SHARE_ONE << 16,
				   guaranteed ? guaranteed : 1);
}

int airtime_sched_set_params(struct airtime_sched *s,
			     const struct airtime_params *p, u64 now)
{
	struct airtime_params np;
	int err = params_normalize(p, &np);
	u32 m;

	if (err)
		return err;
	airtime_sched_advance(s, now);
	s->p = np;
	s->ivl_start = now;
	s->intervals++;
	m = s->active_mask;
	while (m) {
		struct airtime_vif *v = s->vifs[__builtin_ctz(m)];

		m &= m - 1;
		vif_apply_shares(s, v, v->guaranteed, v->cap);
		vif_refill(v, false);
	}
	wake_check(s, now);
	return 0;
}

u32 airtime_sched_take_wakeups(struct airtime_sched *s)
{
	u32 m = s->wake_mask;

	s->wake_mask = 0;
	return m;
}

struct airtime_vif *airtime_sched_vif(const struct airtime_sched *s, u32 slot)
{
	if (slot >= AIRTIME_MAX_VIFS || !(s->active_mask & (1U << slot)))
		return NULL;
	return s->vifs[slot];
}

void airtime_sched_get_stats(const struct airtime_sched *s, u64 now,
			     struct airtime_sched_stats *st)
{
	u32 m = s->active_mask;

	memset(st, 0, sizeof(*st));
	st->outstanding_ns = s->outstanding_ns;
	st->vclock_lead_ns = vclock_lead(s, now);
	st->inflight_ns = st->outstanding_ns > st->vclock_lead_ns ?
		st->outstanding_ns : st->vclock_lead_ns;
	st->interval_start_ns = s->ivl_start;
	st->intervals = s->intervals;
	st->orphan_completions = s->orphan_completions;
	st->inflight_packets = s->inflight_packets;
	while (m) {
		const struct airtime_vif *v = s->vifs[__builtin_ctz(m)];

		m &= m - 1;
		st->vifs++;
		st->guaranteed_sum += v->guaranteed;
	}
}

/* ---- Vifs ------------------------------------------------------------------- */

static bool vif_registered(const struct airtime_sched *s,
			   const struct airtime_vif *v)
{
	return (v->flags & VIF_REGISTERED) && v->slot < AIRTIME_MAX_VIFS &&
	       s->vifs[v->slot] == v;
}

/* Part of an amount that falls into what is left of the interval. */
static u64 prorate(const struct airtime_sched *s, u64 amount, u64 now)
{
	u64 left = ivl_end(s) - now;

	if (left > s->p.interval_ns)	/* now before the interval began */
		left = s->p.interval_ns;

	return airtime_div64(amount * left, s->p.interval_ns);
}

int airtime_vif_add(struct airtime_sched *s, struct airtime_vif *v,
		    u32 guaranteed, u32 cap, u64 now)
{
	u32 slot;
	int err = shares_validate(guaranteed, cap);

	if (err)
		return err;
	if (s->active_mask == U32_MAX)
		return -ENOSPC;
	airtime_sched_advance(s, now);
	slot = __builtin_ctz(~s->active_mask);

	memset(v, 0, sizeof(*v));
	v->slot = slot;
	v->gen = s->gen[slot];
	v->flags = VIF_REGISTERED;
	v->cf = AIRTIME_CF_ONE;
	v->last_poll = now;
	vif_apply_shares(s, v, guaranteed, cap);
	v->credit_ns = (s64)prorate(s, v->quota_ns, now);
	if (v->cap_ns != U64_MAX)
		v->ivl_used_ns = v->cap_ns - prorate(s, v->cap_ns, now);
	s->vifs[slot] = v;
	s->active_mask |= 1U << slot;
	return slot;
}

void airtime_vif_remove(struct airtime_sched *s, struct airtime_vif *v,
			u64 now)
{
	u32 bit;

	if (!vif_registered(s, v))
		return;
	bit = 1U << v->slot;
	if (v->backlog_packets)
		vif_drained(s, v, now);
	vif_set_held(v, false, now);
	s->vifs[v->slot] = NULL;
	s->active_mask &= ~bit;
	s->waiting_mask &= ~bit;
	s->wake_mask &= ~bit;
	/* Completions of its frames in flight no longer find it. */
	s->gen[v->slot]++;
	v->flags = 0;
	wake_check(s, now);
}

int airtime_vif_set_share(struct airtime_sched *s, struct airtime_vif *v,
			  u32 guaranteed, u32 cap, u64 now)
{
	int err = shares_validate(guaranteed, cap);
	bool was_contending;
	u64 old_quota;

	if (err)
		return err;
	if (!vif_registered(s, v))
		return -EINVAL;
	airtime_sched_advance(s, now);
	was_contending = vif_contending(v);
	old_quota = v->quota_ns;
	vif_apply_shares(s, v, guaranteed, cap);
	v->credit_ns += (s64)prorate(s, v->quota_ns, now) -
			(s64)prorate(s, old_quota, now);
	if (!was_contending && vif_contending(v))
		vif_activate(s, v);
	wake_check(s, now);
	return 0;
}

int airtime_vif_enqueue(struct airtime_sched *s, struct airtime_vif *v,
			u32 len, u64 now)
{
	if (!vif_registered(s, v))
		return -EINVAL;
	airtime_sched_advance(s, now);
	if (!v->backlog_packets) {
		v->backlog_since = now;
		/* Its qdisc runs now: it is present without having polled. */
		v->last_poll = now;
		if (!vif_capped(v))
			vif_activate(s, v);
	}
	if (v->backlog_packets < U32_MAX)
		v->backlog_packets++;
	v->backlog_bytes = sat_add(v->backlog_bytes, len);
	return 0;
}

static void vif_unqueue(struct airtime_sched *s, struct airtime_vif *v,
			u32 len, u64 now)
{
	v->backlog_packets--;
	v->backlog_bytes = v->backlog_bytes > len ? v->backlog_bytes - len : 0;
	if (!v->backlog_packets) {
		v->backlog_bytes = 0;
		vif_drained(s, v, now);
	}
}

int airtime_vif_drop(struct airtime_sched *s, struct airtime_vif *v,
		     u32 len, bool queued, u64 now)
{
	if (!vif_registered(s, v) || (queued && !v->backlog_packets))
		return -EINVAL;
	airtime_sched_advance(s, now);
	v->drop_packets++;
	v->drop_bytes = sat_add(v->drop_bytes, len);
	if (queued) {
		vif_unqueue(s, v, len, now);
		wake_check(s, now);
	}
	return 0;
}

void airtime_vif_purge(struct airtime_sched *s, struct airtime_vif *v,
		       u64 now)
{
	if (!vif_registered(s, v) || !v->backlog_packets)
		return;
	airtime_sched_advance(s, now);
	v->drop_packets += v->backlog_packets;
	v->drop_bytes = sat_add(v->drop_bytes, v->backlog_bytes);
	v->backlog_packets = 0;
	v->backlog_bytes = 0;
	vif_drained(s, v, now);
	wake_check(s, now);
}

enum airtime_verdict airtime_vif_poll(struct airtime_sched *s,
				      struct airtime_vif *v, u64 now,
				      u64 *wake_at)
{
	struct airtime_view w;
	enum airtime_verdict verdict;
	u32 bit = 1U << v->slot;
	bool held;

	if (!vif_registered(s, v)) {
		airtime_sched_advance(s, now);
		*wake_at = ivl_end(s);
		return AIRTIME_IDLE;
	}
	airtime_sched_advance(s, now);
	v->last_poll = now;
	view_build(s, now, false, &w);
	verdict = judge(s, &w, v, now, wake_at, &held);
	vif_set_held(v, held, now);
	if (verdict == AIRTIME_SEND || verdict == AIRTIME_IDLE) {
		s->waiting_mask &= ~bit;
		return verdict;
	}
	v->wake_at = *wake_at;
	s->waiting_mask |= bit;
	/*
	 * Time alone may have made a waiting vif eligible (the virtual clock
	 * fell back within the budget while it waited for its turn): v is
	 * not sending, so whoever may send now must be woken.  Nothing but
	 * the waiting set changed since the view was built, and v was in it.
	 */
	wake_check_view(s, now, &w);
	if (verdict == AIRTIME_WAIT_TURN) {
		*wake_at = turn_deadline(s, &w, v, now, *wake_at);
		v->wake_at = *wake_at;
	}
	return verdict;
}

struct airtime_vif *airtime_sched_pick(struct airtime_sched *s, u64 now,
				       u64 *wake_at)
{
	struct airtime_vif *best = NULL;
	struct airtime_view w;
	u32 m;
	int c;

	airtime_sched_advance(s, now);
	*wake_at = ivl_end(s);
	view_build(s, now, true, &w);
	c = (w.classes & (1U << CLASS_GUARANTEED)) ? CLASS_GUARANTEED :
						     CLASS_BORROWING;
	m = s->active_mask;
	while (m) {
		struct airtime_vif *v = s->vifs[__builtin_ctz(m)];

		m &= m - 1;
		if (!v->backlog_packets)
			continue;
		if (!(w.present & (1U << v->slot))) {
			vif_set_held(v, true, now);	/* capped */
			continue;
		}
		vif_set_held(v, vif_class(v) > c, now);
		if (vif_class(v) != c)
			continue;
		if (!best || at_before(v->vtime[c], best->vtime[c]))
			best = v;
	}
	if (best && !inflight_open(s, now, wake_at))
		return NULL;
	return best;
}

/* The charge of a frame: its estimate times the vif's congestion factor. */
static u32 frame_charge(const struct airtime_vif *v, u32 raw_ns)
{
	u64 c = ((u64)raw_ns * v->cf) >> AIRTIME_CF_SHIFT;

	if (c > U32_MAX)
		return U32_MAX;
	return c ? (u32)c : 1;
}

int airtime_vif_dequeue(struct airtime_sched *s, struct airtime_vif *v,
			u32 len, u32 raw_ns, u64 now, struct airtime_tx *tx)
{
	u32 charge;
	bool borrowed;

	if (!raw_ns || !v->backlog_packets || !vif_registered(s, v))
		return -EINVAL;
	airtime_sched_advance(s, now);
	charge = frame_charge(v, raw_ns);
	borrowed = v->credit_ns <= 0;
	if (borrowed) {
		v->ivl_borrowed_ns += charge;
		v->borrowed_ns = sat_add(v->borrowed_ns, charge);
	} else {
		v->credit_ns -= charge;
	}
	v->ivl_used_ns = sat_add(v->ivl_used_ns, charge);
	v->ivl_charged_ns += charge;
	v->vtime[borrowed ? CLASS_BORROWING : CLASS_GUARANTEED] +=
		((u64)charge * v->vt_mult) >> 16;
	v->last_poll = now;

	/* The virtual channel carries frames back to back from now on. */
	s->vclock = (at_before(s->vclock, now) ? now : s->vclock) + charge;
	s->outstanding_ns += charge;
	s->inflight_packets++;

	v->tx_packets++;
	v->tx_bytes = sat_add(v->tx_bytes, len);
	v->estimated_ns = sat_add(v->estimated_ns, raw_ns);
	v->charged_ns = sat_add(v->charged_ns, charge);
	vif_unqueue(s, v, len, now);

	tx->charge_ns = charge;
	tx->raw_ns = raw_ns;
	tx->gen = v->gen;
	tx->slot = v->slot;
	tx->flags = AIRTIME_TX_VALID | (borrowed ? AIRTIME_TX_BORROWED : 0);
	/*
	 * Others may go now only if v left the contest.  If it merely moved
	 * on (new class, cap, virtual time), its own next poll says WAIT and
	 * wakes them then.
	 */
	if (!v->backlog_packets)
		wake_check(s, now);
	return 0;
}

/* Move the congestion factor toward measured/raw by 2^-shift. */
static void vif_learn(const struct airtime_sched *s, struct airtime_vif *v,
		      u32 measured_ns, u32 raw_ns)
{
	u64 ratio = airtime_div64((u64)measured_ns << AIRTIME_CF_SHIFT, raw_ns);
	u32 step;

	if (ratio < AIRTIME_CF_MIN)
		ratio = AIRTIME_CF_MIN;
	if (ratio > AIRTIME_CF_MAX)
		ratio = AIRTIME_CF_MAX;
	if (ratio > v->cf) {
		step = (u32)(ratio - v->cf) >> s->p.cf_ewma_shift;
		v->cf += step ? step : 1;
	} else if (ratio < v->cf) {
		step = (v->cf - (u32)ratio) >> s->p.cf_ewma_shift;
		v->cf -= step ? step : 1;
	}
}

/* The measured airtime replaces the charge wherever it counted. */
static void vif_charge_measured(struct airtime_sched *s, struct airtime_vif *v,
				const struct airtime_tx *tx, u32 measured_ns)
{
	s64 delta;
	int c;

	delta = (s64)measured_ns - (s64)tx->charge_ns;
	if (tx->flags & AIRTIME_TX_BORROWED) {
		v->ivl_borrowed_ns = sat_add_signed(v->ivl_borrowed_ns, delta);
		v->borrowed_ns = sat_add_signed(v->borrowed_ns, delta);
	} else {
		v->credit_ns -= delta;
	}
	v->ivl_used_ns = sat_add_signed(v->ivl_used_ns, delta);
	v->ivl_charged_ns = sat_add_signed(v->ivl_charged_ns, delta);
	v->charged_ns = sat_add_signed(v->charged_ns, delta);
	c = (tx->flags & AIRTIME_TX_BORROWED) ? CLASS_BORROWING : CLASS_GUARANTEED;
	if (delta >= 0)
		v->vtime[c] += ((u64)delta * v->vt_mult) >> 16;
	else
		v->vtime[c] -= ((u64)-delta * v->vt_mult) >> 16;
	v->measured_ns = sat_add(v->measured_ns, measured_ns);
	v->status_packets++;
	vif_learn(s, v, measured_ns, tx->raw_ns);
}

void airtime_tx_complete(struct airtime_sched *s, const struct airtime_tx *tx,
			 u32 measured_ns, u64 now)
{
	struct airtime_vif *v;
	bool reopened;

	if (!(tx->flags & AIRTIME_TX_VALID))
		return;
	airtime_sched_advance(s, now);
	reopened = s->outstanding_ns >= s->p.inflight_budget_ns;
	s->outstanding_ns = s->outstanding_ns > tx->charge_ns ?
		s->outstanding_ns - tx->charge_ns : 0;
	reopened = reopened && s->outstanding_ns < s->p.inflight_budget_ns;
	if (s->inflight_packets)
		s->inflight_packets--;

	v = tx->slot < AIRTIME_MAX_VIFS ? s->vifs[tx->slot] : NULL;
	if (!v || s->gen[tx->slot] != tx->gen) {
		s->orphan_completions++;
	} else if (!measured_ns) {
		v->estimate_packets++;
	} else {
		vif_charge_measured(s, v, tx, measured_ns);
	}
	/*
	 * Vifs held by outstanding frames sleep until woken; all other
	 * waits have a watchdog, or end at the next poll of the vif that
	 * changed here (see airtime_vif_dequeue()).
	 */
	if (reopened)
		wake_check(s, now);
}


void airtime_vif_get_stats(const struct airtime_sched *s,
			   const struct airtime_vif *v, u64 now,
			   struct airtime_vif_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->estimated_ns = v->estimated_ns;
	st->charged_ns = v->charged_ns;
	st->measured_ns = v->measured_ns;
	st->borrowed_ns = v->borrowed_ns;
	st->credit_ns = v->credit_ns - (s64)v->ivl_borrowed_ns;
	st->interval_charged_ns = v->ivl_charged_ns;
	st->backlogged_ns = v->backlogged_ns;
	if (v->backlog_packets && at_before(v->backlog_since, now))
		st->backlogged_ns = sat_add(st->backlogged_ns,
					    now - v->backlog_since);
	st->throttled_ns = v->throttled_ns;
	if ((v->flags & VIF_HELD) && at_before(v->held_since, now))
		st->throttled_ns = sat_add(st->throttled_ns, now - v->held_since);
	st->tx_packets = v->tx_packets;
	st->tx_bytes = v->tx_bytes;
	st->status_packets = v->status_packets;
	st->estimate_packets = v->estimate_packets;
	st->drop_packets = v->drop_packets;
	st->drop_bytes = v->drop_bytes;
	st->backlog_bytes = v->backlog_bytes;
	st->backlog_packets = v->backlog_packets;
	st->congestion_q16 = v->cf;
	st->guaranteed = v->guaranteed;
	st->cap = v->cap;
	st->slot = v->slot;
	st->held = !!(v->flags & VIF_HELD);
	(void)s;
}
