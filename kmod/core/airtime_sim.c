// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A simulated radio driven by the airtime core; see airtime_sim.h.
 * Userspace only: it allocates, and uses 128-bit arithmetic.
 */
#include <stdlib.h>

#include "airtime_sim.h"

typedef unsigned __int128 u128;

struct sim_frame {
	struct airtime_tx tx;
	u32 bytes;
	u32 air_ns;		/* true airtime */
	u64 end_mark;		/* channel position at which it completes */
};

struct sim_arrivals {
	u64 carry;		/* bytes of a partial frame from earlier steps */
	u64 enqueued;		/* frames of this step counted so far */
};

struct airtime_sim {
	struct airtime_sched s;
	struct airtime_vif vifs[AIRTIME_MAX_VIFS];
	struct sim_arrivals arr[AIRTIME_MAX_VIFS];
	u32 queue_limit;
	u64 now;

	/*
	 * The radio's channel position: true airtime it has used since it was
	 * created.  It advances only while the FIFO holds frames.
	 */
	u64 pos0;		/* at the start of the step */
	u64 busy_wall;		/* wall ns with frames, in this step */

	struct sim_frame hwq[AIRTIME_SIM_HWQ];
	u32 head;
	u32 count;
};

/* What one step needs at hand. */
struct sim_run {
	struct airtime_sim *sim;
	const struct airtime_sim_step_in *in;
	const struct airtime_sim_vif_in *vin;
	u32 nvif;
	struct airtime_sim_vif_out *vout;
	struct airtime_sim_step_out *out;
	u64 t0;
	u64 end;
	u32 scale;		/* measured_q16 */
};

struct airtime_sim *airtime_sim_create(const struct airtime_params *p, u64 now)
{
	struct airtime_sim *sim = calloc(1, sizeof(*sim));

	if (!sim)
		return NULL;
	if (airtime_sched_init(&sim->s, p, now)) {
		free(sim);
		return NULL;
	}
	sim->queue_limit = AIRTIME_SIM_QUEUE_DEFAULT;
	sim->now = now;
	return sim;
}

void airtime_sim_destroy(struct airtime_sim *sim)
{
	free(sim);
}

int airtime_sim_set_params(struct airtime_sim *sim,
			   const struct airtime_params *p)
{
	return airtime_sched_set_params(&sim->s, p, sim->now);
}

int airtime_sim_set_queue_limit(struct airtime_sim *sim, u32 frames)
{
	if (!frames || frames > 1000000)
		return -EINVAL;
	sim->queue_limit = frames;
	return 0;
}

static struct airtime_vif *sim_vif(const struct airtime_sim *sim, u32 slot)
{
	return airtime_sched_vif(&sim->s, slot);
}

int airtime_sim_vif_add(struct airtime_sim *sim, u32 guaranteed, u32 cap)
{
	u32 slot;

	if (sim->s.active_mask == U32_MAX)
		return -ENOSPC;
	slot = __builtin_ctz(~sim->s.active_mask);
	memset(&sim->arr[slot], 0, sizeof(sim->arr[slot]));
	return airtime_vif_add(&sim->s, &sim->vifs[slot], guaranteed, cap,
			       sim->now);
}

int airtime_sim_vif_remove(struct airtime_sim *sim, u32 slot)
{
	struct airtime_vif *v = sim_vif(sim, slot);

	if (!v)
		return -EINVAL;
	airtime_vif_purge(&sim->s, v, sim->now);
	airtime_vif_remove(&sim->s, v, sim->now);
	return 0;
}

int airtime_sim_vif_set_share(struct airtime_sim *sim, u32 slot,
			      u32 guaranteed, u32 cap)
{
	struct airtime_vif *v = sim_vif(sim, slot);

	if (!v)
		return -EINVAL;
	return airtime_vif_set_share(&sim->s, v, guaranteed, cap, sim->now);
}

int airtime_sim_vif_stats(const struct airtime_sim *sim, u32 slot,
			  struct airtime_vif_stats *st)
{
	const struct airtime_vif *v = sim_vif(sim, slot);

	if (!v)
		return -EINVAL;
	airtime_vif_get_stats(&sim->s, v, sim->now, st);
	return 0;
}

void airtime_sim_sched_stats(const struct airtime_sim *sim,
			     struct airtime_sched_stats *st)
{
	airtime_sched_get_stats(&sim->s, sim->now, st);
}

u64 airtime_sim_now(const struct airtime_sim *sim)
{
	return sim->now;
}

const struct airtime_sched *airtime_sim_sched(const struct airtime_sim *sim)
{
	return &sim->s;
}

/* ---- Checking a step ------------------------------------------------------ */

static bool vif_has_traffic(const struct airtime_sim_vif_in *vi)
{
	return vi->offered_bytes != 0;
}

static int sim_check(const struct airtime_sim *sim,
		     const struct airtime_sim_step_in *in,
		     const struct airtime_sim_vif_in *vin, u32 nvif,
		     struct airtime_sim_step_out *out)
{
	u32 slot;

	out->error = AIRTIME_SIM_OK;
	out->error_slot = 0;
	/* The simulated clock never wraps, so plain comparisons hold. */
	if (!in->duration_ns || in->duration_ns > AIRTIME_SIM_STEP_MAX_NS ||
	    in->duration_ns > U64_MAX - 1 - sim->now)
		out->error = AIRTIME_SIM_EDURATION;
	else if (in->airtime_ns > in->duration_ns)
		out->error = AIRTIME_SIM_EAIRTIME;
	else if (in->measured_q16 > AIRTIME_CF_MAX)
		out->error = AIRTIME_SIM_ESCALE;
	if (out->error)
		return -EINVAL;
	for (slot = 0; slot < AIRTIME_MAX_VIFS; slot++) {
		const struct airtime_sim_vif_in *vi = slot < nvif ? &vin[slot] : NULL;
		const struct airtime_vif *v = sim_vif(sim, slot);
		bool traffic = vi && vif_has_traffic(vi);

		out->error_slot = slot;
		if (!v) {
			if (traffic) {
				out->error = AIRTIME_SIM_ENOVIF;
				return -EINVAL;
			}
			continue;
		}
		/* Queued frames need a rate even when nothing new arrives. */
		if (!traffic && !v->backlog_packets)
			continue;
		if (!vi || !vi->rate_kbps) {
			out->error = AIRTIME_SIM_ERATE;
			return -EINVAL;
		}
		if (traffic && (!vi->frame_bytes ||
				vi->frame_bytes > AIRTIME_SIM_FRAME_MAX)) {
			out->error = AIRTIME_SIM_EFRAME;
			return -EINVAL;
		}
	}
	out->error_slot = 0;
	return 0;
}

/* ---- The channel ------------------------------------------------------------ */

static u64 sim_pos(const struct sim_run *r)
{
	const struct airtime_sim *sim = r->sim;

	if (!r->in->airtime_ns)
		return sim->pos0;
	return sim->pos0 + (u64)((u128)sim->busy_wall * r->in->airtime_ns /
				 r->in->duration_ns);
}

/* Move the clock to t; the channel advances only while frames wait. */
static void sim_advance(struct sim_run *r, u64 t)
{
	struct airtime_sim *sim = r->sim;

	if (sim->count)
		sim->busy_wall += t - sim->now;
	sim->now = t;
}

/* Wall time at which the head frame completes, or U64_MAX. */
static u64 sim_head_done(const struct sim_run *r)
{
	const struct airtime_sim *sim = r->sim;
	u64 mark, pos0 = sim->pos0;
	u128 need;

	if (!sim->count || !r->in->airtime_ns)
		return U64_MAX;
	mark = sim->hwq[sim->head].end_mark;
	if (mark <= pos0)
		return sim->now;
	/* Least busy wall time w with pos0 + floor(w * A / D) >= mark. */
	need = ((u128)(mark - pos0) * r->in->duration_ns + r->in->airtime_ns - 1) /
	       r->in->airtime_ns;
	if (need <= sim->busy_wall)
		return sim->now;
	if (need - sim->busy_wall > (u128)(U64_MAX - sim->now))
		return U64_MAX;
	return sim->now + (u64)(need - sim->busy_wall);
}

static void sim_complete(struct sim_run *r)
{
	struct airtime_sim *sim = r->sim;
	u64 pos = sim_pos(r);

	while (sim->count && sim->hwq[sim->head].end_mark <= pos) {
		struct sim_frame *f = &sim->hwq[sim->head];
		struct airtime_sim_vif_out *vo =
			f->tx.slot < r->nvif ? &r->vout[f->tx.slot] : NULL;

		airtime_tx_complete(&sim->s, &f->tx,
				    r->in->tx_status ? f->air_ns : 0, sim->now);
		/* Frames of a removed vif still used the channel. */
		if (vo && airtime_sched_vif(&sim->s, f->tx.slot) &&
		    sim->s.gen[f->tx.slot] == f->tx.gen) {
			vo->tx_packets++;
			vo->tx_bytes += f->bytes;
			vo->airtime_ns += f->air_ns;
		}
		r->out->tx_packets++;
		r->out->tx_bytes += f->bytes;
		sim->head = (sim->head + 1) % AIRTIME_SIM_HWQ;
		sim->count--;
	}
}

/* ---- Arrivals ----------------------------------------------------------------- */

/* Frames of slot's traffic that have arrived by wall time t. */
static u64 sim_arrived(const struct sim_run *r, u32 slot, u64 t)
{
	const struct airtime_sim_vif_in *vi = &r->vin[slot];
	u128 bytes = (u128)vi->offered_bytes * (t - r->t0) / r->in->duration_ns;

	return (u64)((bytes + r->sim->arr[slot].carry) / vi->frame_bytes);
}

/* Wall time of the next arrival of slot's traffic, or U64_MAX. */
static u64 sim_next_arrival(const struct sim_run *r, u32 slot)
{
	const struct airtime_sim_vif_in *vi = &r->vin[slot];
	const struct sim_arrivals *a = &r->sim->arr[slot];
	u128 want = (u128)(a->enqueued + 1) * vi->frame_bytes;
	u128 dt;

	if (want <= a->carry)
		return r->sim->now;
	dt = ((want - a->carry) * r->in->duration_ns + vi->offered_bytes - 1) /
	     vi->offered_bytes;
	if (dt > r->end - r->t0)
		return U64_MAX;
	return r->t0 + (u64)dt;
}

static void sim_enqueue(struct sim_run *r, u32 slot, u64 frames, u32 len)
{
	struct airtime_sim *sim = r->sim;
	struct airtime_vif *v = &sim->vifs[slot];
	u64 room = v->backlog_packets < sim->queue_limit ?
		   sim->queue_limit - v->backlog_packets : 0;
	u64 fit = frames < room ? frames : room;
	u64 i;

	for (i = 0; i < fit; i++)
		airtime_vif_enqueue(&sim->s, v, len, sim->now);
	if (frames > fit) {
		u64 n = frames - fit;

		/* The tail drop of a full queue, counted in bulk. */
		v->drop_packets += n;
		v->drop_bytes += n * len;
		r->vout[slot].drop_packets += n;
		r->vout[slot].drop_bytes += n * len;
	}
}

static void sim_arrivals(struct sim_run *r)
{
	struct airtime_sim *sim = r->sim;
	u32 m = sim->s.active_mask, slot;

	while (m) {
		const struct airtime_sim_vif_in *vi;
		u64 k;

		slot = __builtin_ctz(m);
		m &= m - 1;
		if (slot >= r->nvif)
			continue;
		vi = &r->vin[slot];
		if (!vi->offered_bytes)
			continue;
		if (vi->offered_bytes == AIRTIME_SIM_SATURATED) {
			struct airtime_vif *v = &sim->vifs[slot];

			if (v->backlog_packets < sim->queue_limit)
				sim_enqueue(r, slot,
					    sim->queue_limit - v->backlog_packets,
					    vi->frame_bytes);
			continue;
		}
		k = sim_arrived(r, slot, sim->now);
		if (k > sim->arr[slot].enqueued) {
			sim_enqueue(r, slot, k - sim->arr[slot].enqueued,
				    vi->frame_bytes);
			sim->arr[slot].enqueued = k;
		}
	}
}

/* ---- Releasing frames to the driver ---------------------------------------- */

/* True airtime of a frame: what a DCF medium takes, scaled by the medium. */
static u32 sim_true_airtime(const struct sim_run *r, u32 len, u32 rate)
{
	u64 ns = (u64)airtime_ppdu_ns(len, rate, r->sim->s.p.band) +
		 airtime_overhead_ns(AIRTIME_OVERHEAD_DCF, r->sim->s.p.band, rate);

	ns = (ns * r->scale) >> AIRTIME_CF_SHIFT;
	if (ns > U32_MAX)
		return U32_MAX;
	return ns ? (u32)ns : 1;
}

/* Release what the scheduler lets out; returns its wake time. */
static u64 sim_release(struct sim_run *r)
{
	struct airtime_sim *sim = r->sim;
	u64 wake = U64_MAX;

	while (sim->count < AIRTIME_SIM_HWQ) {
		struct airtime_vif *v = airtime_sched_pick(&sim->s, sim->now, &wake);
		struct sim_frame *f, *prev;
		u32 len, rate;
		u64 start;

		if (!v)
			return wake;
		/* Frames of one vif have one length unless it changed. */
		len = v->backlog_packets > 1 ?
		      (u32)(v->backlog_bytes / v->backlog_packets) :
		      (u32)v->backlog_bytes;
		rate = r->vin[v->slot].rate_kbps;
		f = &sim->hwq[(sim->head + sim->count) % AIRTIME_SIM_HWQ];
		if (airtime_vif_dequeue(&sim->s, v, len,
					airtime_estimate_ns(&sim->s, len, rate),
					sim->now, &f->tx))
			return wake;	/* cannot happen: checked in sim_check */
		f->bytes = len;
		f->air_ns = sim_true_airtime(r, len, rate);
		if (sim->count) {
			prev = &sim->hwq[(sim->head + sim->count - 1) %
					 AIRTIME_SIM_HWQ];
			start = prev->end_mark;
		} else {
			start = sim_pos(r);
		}
		f->end_mark = start + f->air_ns;
		sim->count++;
		/* A saturated source refills the queue at once. */
		if (r->vin[v->slot].offered_bytes == AIRTIME_SIM_SATURATED)
			airtime_vif_enqueue(&sim->s, v, r->vin[v->slot].frame_bytes,
					    sim->now);
	}
	return wake;
}

/* ---- A step ----------------------------------------------------------------- */

static void sim_run(struct sim_run *r)
{
	struct airtime_sim *sim = r->sim;
	u32 slot;

	memset(r->out, 0, sizeof(*r->out));
	memset(r->vout, 0, sizeof(*r->vout) * r->nvif);
	for (slot = 0; slot < AIRTIME_MAX_VIFS; slot++)
		sim->arr[slot].enqueued = 0;
	r->t0 = sim->now;
	r->end = sim->now + r->in->duration_ns;
	r->scale = r->in->measured_q16 ? r->in->measured_q16 : AIRTIME_CF_ONE;
	sim->busy_wall = 0;

	for (;;) {
		u64 next, wake;
		u32 m;

		sim_complete(r);
		sim_arrivals(r);
		if (sim->now == r->end)
			break;
		wake = sim_release(r);
		next = r->end;
		if (sim->count < AIRTIME_SIM_HWQ && wake < next)
			next = wake;
		if (sim_head_done(r) < next)
			next = sim_head_done(r);
		m = sim->s.active_mask;
		while (m) {
			u64 a;

			slot = __builtin_ctz(m);
			m &= m - 1;
			if (slot >= r->nvif || !r->vin[slot].offered_bytes ||
			    r->vin[slot].offered_bytes == AIRTIME_SIM_SATURATED)
				continue;
			a = sim_next_arrival(r, slot);
			if (a < next)
				next = a;
		}
		if (next <= sim->now)
			next = sim->now + 1;
		sim_advance(r, next);
	}

	/* Close the step: carry partial frames, fold the channel position. */
	for (slot = 0; slot < AIRTIME_MAX_VIFS && slot < r->nvif; slot++) {
		const struct airtime_sim_vif_in *vi = &r->vin[slot];
		struct airtime_vif *v = sim_vif(sim, slot);

		if (!v)
			continue;
		if (vi->offered_bytes && vi->offered_bytes != AIRTIME_SIM_SATURATED)
			sim->arr[slot].carry =
				(u64)(((u128)vi->offered_bytes + sim->arr[slot].carry) %
				      vi->frame_bytes);
		r->vout[slot].backlog_packets = v->backlog_packets;
		r->vout[slot].backlog_bytes = v->backlog_bytes;
	}
	r->out->airtime_ns = sim_pos(r) - sim->pos0;
	r->out->busy_ns = sim->busy_wall;
	r->out->now_ns = sim->now;
	sim->pos0 = sim_pos(r);
	sim->busy_wall = 0;
}

int airtime_sim_step(struct airtime_sim *sim,
		     const struct airtime_sim_step_in *in,
		     const struct airtime_sim_vif_in *vin, u32 nvif,
		     struct airtime_sim_vif_out *vout,
		     struct airtime_sim_step_out *out)
{
	struct sim_run r = {
		.sim = sim, .in = in, .vin = vin, .nvif = nvif,
		.vout = vout, .out = out,
	};

	if (nvif > AIRTIME_MAX_VIFS) {
		memset(out, 0, sizeof(*out));
		out->error = AIRTIME_SIM_ENOVIF;
		out->error_slot = AIRTIME_MAX_VIFS;
		return -EINVAL;
	}
	if (sim_check(sim, in, vin, nvif, out))
		return -EINVAL;
	sim_run(&r);
	return 0;
}

int airtime_sim_step_many(struct airtime_sim *const *sims, u32 n,
			  const struct airtime_sim_step_in *in,
			  const struct airtime_sim_vif_in *vin, u32 nvif,
			  struct airtime_sim_vif_out *vout,
			  struct airtime_sim_step_out *out, u32 *bad_radio)
{
	u32 i;

	if (nvif > AIRTIME_MAX_VIFS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (sim_check(sims[i], &in[i], &vin[(u64)i * nvif], nvif, &out[i])) {
			if (bad_radio)
				*bad_radio = i;
			return -EINVAL;
		}
	}
	for (i = 0; i < n; i++) {
		struct sim_run r = {
			.sim = sims[i], .in = &in[i], .vin = &vin[(u64)i * nvif],
			.nvif = nvif, .vout = &vout[(u64)i * nvif], .out = &out[i],
		};

		sim_run(&r);
	}
	return 0;
}

u32 airtime_abi_sizeof(const char *name)
{
	static const struct {
		const char *name;
		u32 size;
	} sizes[] = {
		{ "airtime_params", sizeof(struct airtime_params) },
		{ "airtime_tx", sizeof(struct airtime_tx) },
		{ "airtime_vif_stats", sizeof(struct airtime_vif_stats) },
		{ "airtime_sched_stats", sizeof(struct airtime_sched_stats) },
		{ "airtime_vif", sizeof(struct airtime_vif) },
		{ "airtime_sched", sizeof(struct airtime_sched) },
		{ "airtime_sim_vif_in", sizeof(struct airtime_sim_vif_in) },
		{ "airtime_sim_step_in", sizeof(struct airtime_sim_step_in) },
		{ "airtime_sim_vif_out", sizeof(struct airtime_sim_vif_out) },
		{ "airtime_sim_step_out", sizeof(struct airtime_sim_step_out) },
	};
	u32 i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (!strcmp(sizes[i].name, name))
			return sizes[i].size;
	return 0;
}
