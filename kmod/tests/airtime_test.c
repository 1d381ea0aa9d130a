// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * C harness for the airtime core, built with ASan and UBSan.
 *
 * Most tests drive the core the way the kernel module does: one "qdisc"
 * per vif that polls, dequeues while told SEND, arms a watchdog for the
 * wake time otherwise, and is kicked by airtime_sched_take_wakeups().
 * The driver below it either completes frames at once without TX status
 * (hwsim's built-in medium) or transmits them one after the other on a
 * channel, completing each with its true airtime as TX status or not.
 *
 * Prints "N passed, N failed"; exits non-zero if anything failed.
 * Run one test: airtime_test <name>.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airtime.h"
#include "airtime_sim.h"

/* ---- Checks ---------------------------------------------------------------- */

static int test_failed;

static void fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	test_failed = 1;
}

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond))						\
			fail(__FILE__, __LINE__, __VA_ARGS__);		\
	} while (0)

#define CHECK_NEAR(got, want, tol, what)				\
	CHECK(fabs((double)(got) - (double)(want)) <= (tol),		\
	      "%s: got %.4f, want %.4f +- %.4f", (what),		\
	      (double)(got), (double)(want), (double)(tol))

#define MS	1000000ULL
#define US	1000ULL
#define SEC	1000000000ULL
#define NVIF	8

/* ---- A kernel-like radio ----------------------------------------------------- */

enum driver { DRV_INSTANT, DRV_CHANNEL };

struct qdisc {
	struct airtime_vif v;
	bool used;
	u32 len;
	u32 rate;
	bool saturated;		/* queue refilled after every dequeue */
	u32 queued;		/* frames queued in the "qdisc" */
	bool runnable;
	u64 timer;		/* watchdog, U64_MAX when not armed */
	bool stopped;		/* netdev queue stopped: the qdisc never runs */
	u64 air_ns;		/* true airtime of its completed frames */
	u64 sent;		/* frames dequeued */
};

struct frame {
	struct airtime_tx tx;
	u32 air_ns;
	u64 done;		/* completion time on the channel */
};

#define CHAN_Q 256

struct radio {
	struct airtime_sched s;
	struct qdisc q[NVIF];
	enum driver drv;
	u32 status_pct;		/* TX status = true airtime x pct / 100; 0: none */
	u64 base;		/* the core's clock when now was 0 */
	u64 now;		/* harness time, from 0: never wraps */
	u32 rr;
	/* the channel */
	struct frame chan[CHAN_Q];
	u32 head, count;
	u64 chan_free;		/* when the last queued frame ends */
	/* observations */
	u64 max_inflight;	/* largest in-flight seen right after a dequeue */
	u32 max_frame;		/* largest charge seen */
	u64 polls;
	u64 kicks;
};

static void radio_init(struct radio *r, const struct airtime_params *p, u64 now,
		       enum driver drv)
{
	memset(r, 0, sizeof(*r));
	r->base = now;
	r->drv = drv;
	CHECK(airtime_sched_init(&r->s, p, now) == 0, "sched_init");
}

/* The core's clock, which may wrap. */
static u64 at(const struct radio *r)
{
	return r->base + r->now;
}

static struct airtime_params params(u64 interval, u64 budget, u32 overhead)
{
	struct airtime_params p;

	airtime_params_default(&p);
	p.interval_ns = interval;
	p.inflight_budget_ns = budget;
	p.overhead = overhead;
	return p;
}

static int radio_add(struct radio *r, u32 g, u32 cap, u32 len, u32 rate,
		     bool saturated)
{
	struct qdisc *q;
	int slot;
	u32 i;

	for (i = 0; i < NVIF && r->q[i].used; i++)
		;
	if (i == NVIF)
		return -1;
	q = &r->q[i];
	memset(q, 0, sizeof(*q));
	slot = airtime_vif_add(&r->s, &q->v, g, cap, at(r));
	if (slot < 0)
		return slot;
	q->used = true;
	q->len = len;
	q->rate = rate;
	q->timer = UINT64_MAX;
	q->saturated = saturated;
	if (saturated) {
		for (i = 0; i < 8; i++) {
			airtime_vif_enqueue(&r->s, &q->v, len, at(r));
			q->queued++;
		}
		q->runnable = true;
	}
	return (int)(q - r->q);
}

static struct qdisc *qdisc_of_slot(struct radio *r, u32 slot)
{
	u32 i;

	for (i = 0; i < NVIF; i++)
		if (r->q[i].used && r->q[i].v.slot == slot)
			return &r->q[i];
	return NULL;
}

static void absorb_wakeups(struct radio *r)
{
	u32 m = airtime_sched_take_wakeups(&r->s);

	while (m) {
		struct qdisc *q = qdisc_of_slot(r, __builtin_ctz(m));

		m &= m - 1;
		if (q) {
			q->runnable = true;
			r->kicks++;
		}
	}
}

static void radio_enqueue(struct radio *r, struct qdisc *q, u32 frames)
{
	while (frames--) {
		CHECK(airtime_vif_enqueue(&r->s, &q->v, q->len, at(r)) == 0,
		      "enqueue");
		q->queued++;
	}
	q->runnable = true;
}

static u32 true_airtime(const struct radio *r, u32 len, u32 rate)
{
	return airtime_ppdu_ns(len, rate, r->s.p.band) +
	       airtime_overhead_ns(AIRTIME_OVERHEAD_DCF, r->s.p.band, rate);
}

static void channel_complete(struct radio *r)
{
	while (r->count && r->chan[r->head].done <= r->now) {
		struct frame *f = &r->chan[r->head];
		struct qdisc *q = qdisc_of_slot(r, f->tx.slot);
		u32 measured = r->status_pct ?
			(u32)((u64)f->air_ns * r->status_pct / 100) : 0;

		if (q && q->v.gen == f->tx.gen)
			q->air_ns += f->air_ns;
		airtime_tx_complete(&r->s, &f->tx, measured, at(r));
		r->head = (r->head + 1) % CHAN_Q;
		r->count--;
		absorb_wakeups(r);
	}
}

/* The module's dequeue: poll, take a frame, charge it, hand it down. */
static bool qdisc_run(struct radio *r, struct qdisc *q)
{
	struct airtime_sched_stats st;
	struct frame *f;
	u64 wake;
	u32 raw;
	int budget = 16;	/* like a qdisc_restart() quota */
	enum airtime_verdict verdict;

	q->runnable = false;
	while (budget--) {
		r->polls++;
		verdict = airtime_vif_poll(&r->s, &q->v, at(r), &wake);
		absorb_wakeups(r);
		if (verdict == AIRTIME_IDLE) {
			q->timer = UINT64_MAX;
			return false;
		}
		if (verdict != AIRTIME_SEND) {
			CHECK((s64)(wake - at(r)) > 0, "wake_at %" PRIu64
			      " not after now %" PRIu64, wake, at(r));
			CHECK((s64)(wake - airtime_sched_interval_end(&r->s)) <= 0,
			      "wake_at beyond the interval end");
			q->timer = r->now + (wake - at(r));
			return false;
		}
		if (r->drv == DRV_CHANNEL && r->count == CHAN_Q) {
			q->runnable = true;
			return false;
		}
		raw = airtime_estimate_ns(&r->s, q->len, q->rate);
		f = &r->chan[(r->head + r->count) % CHAN_Q];
		CHECK(airtime_vif_dequeue(&r->s, &q->v, q->len, raw, at(r),
					  &f->tx) == 0, "dequeue");
		q->queued--;
		q->sent++;
		absorb_wakeups(r);
		airtime_sched_get_stats(&r->s, at(r), &st);
		if (st.inflight_ns > r->max_inflight)
			r->max_inflight = st.inflight_ns;
		if (f->tx.charge_ns > r->max_frame)
			r->max_frame = f->tx.charge_ns;
		if (q->saturated) {
			CHECK(airtime_vif_enqueue(&r->s, &q->v, q->len, at(r)) == 0,
			      "enqueue");
			q->queued++;
		}
		if (r->drv == DRV_INSTANT) {
			/* hwsim without a medium: freed at once, no status. */
			q->air_ns += true_airtime(r, q->len, q->rate);
			airtime_tx_complete(&r->s, &f->tx, 0, at(r));
			absorb_wakeups(r);
		} else {
			f->air_ns = true_airtime(r, q->len, q->rate);
			if (r->chan_free < r->now)
				r->chan_free = r->now;
			r->chan_free += f->air_ns;
			f->done = r->chan_free;
			r->count++;
		}
	}
	q->runnable = true;
	return true;
}

/* Run the radio until t. */
static void radio_run(struct radio *r, u64 t)
{
	for (;;) {
		bool ran = false;
		u64 next = t;
		u32 k;

		channel_complete(r);
		for (k = 0; k < NVIF; k++) {
			struct qdisc *q = &r->q[(r->rr + k) % NVIF];

			if (!q->used || q->stopped)
				continue;
			if (q->timer <= r->now) {
				q->timer = UINT64_MAX;
				q->runnable = true;
			}
			if (q->runnable && q->queued) {
				qdisc_run(r, q);
				ran = true;
			} else {
				q->runnable = false;
			}
		}
		r->rr++;
		if (ran)
			continue;
		if (r->now >= t)
			return;
		for (k = 0; k < NVIF; k++)
			if (r->q[k].used && !r->q[k].stopped && r->q[k].timer < next)
				next = r->q[k].timer;
		if (r->count && r->chan[r->head].done < next)
			next = r->chan[r->head].done;
		/* Keep the clock honest for time-based checks. */
		if (next <= r->now)
			next = r->now + 1;
		r->now = next;
	}
}

static void vif_stats(struct radio *r, int i, struct airtime_vif_stats *st)
{
	airtime_vif_get_stats(&r->s, &r->q[i].v, at(r), st);
}

static u64 charged(struct radio *r, int i)
{
	struct airtime_vif_stats st;

	vif_stats(r, i, &st);
	return st.charged_ns;
}

/* Shares of charged airtime between two snapshots, in percent. */
static void shares(struct radio *r, const int *idx, int n, const u64 *before,
		   double *out)
{
	u64 total = 0, d[NVIF];
	int k;

	for (k = 0; k < n; k++) {
		d[k] = charged(r, idx[k]) - before[k];
		total += d[k];
	}
	for (k = 0; k < n; k++)
		out[k] = total ? 100.0 * (double)d[k] / (double)total : 0;
}

static void snapshot(struct radio *r, const int *idx, int n, u64 *out)
{
	int k;

	for (k = 0; k < n; k++)
		out[k] = charged(r, idx[k]);
}

/* Shares of charged airtime between two instants of harness time. */
static void measure_shares(struct radio *r, const int *idx, int n, u64 from,
			   u64 to, double *out)
{
	u64 before[NVIF];

	radio_run(r, from);
	snapshot(r, idx, n, before);
	radio_run(r, to);
	shares(r, idx, n, before, out);
}

/* The QEMU test's radio: 20/30/50 % at 54/24/6 Mb/s, all saturated. */
static void add_20_30_50(struct radio *r, int *idx)
{
	idx[0] = radio_add(r, 2000, AIRTIME_NO_CAP, 1462, 54000, true);
	idx[1] = radio_add(r, 3000, AIRTIME_NO_CAP, 1462, 24000, true);
	idx[2] = radio_add(r, 5000, AIRTIME_NO_CAP, 1462, 6000, true);
}

/* ---- Estimates -------------------------------------------------------------- */

static void test_estimates(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	struct airtime_sched s;
	u32 ppdu, full, mac80211;

	CHECK(airtime_sched_init(&s, &p, 0) == 0, "init");
	/* 1462 B at 54 Mb/s: 20 us preamble + 55 symbols of 4 us. */
	ppdu = airtime_ppdu_ns(1462, 54000, AIRTIME_BAND_5GHZ);
	CHECK(ppdu == 240000, "ppdu 1462 B @ 54 = %u", ppdu);
	/* AIFS 43 + backoff 67.5 + SIFS 16 + ACK at 24 Mb/s 28 us */
	CHECK(airtime_overhead_ns(AIRTIME_OVERHEAD_DCF, AIRTIME_BAND_5GHZ, 54000) ==
	      154500, "dcf overhead @ 54");
	full = airtime_estimate_ns(&s, 1462, 54000);
	/* mac80211's ieee80211_calc_legacy_rate_duration(): 36 + 8 L / rate */
	mac80211 = (36 + 1462 * 8 * 10 / 540) * 1000;
	CHECK_NEAR((double)full / mac80211, 1.55, 0.03,
		   "full channel time / mac80211 PPDU estimate");
	CHECK(airtime_ppdu_ns(1462, 6000, AIRTIME_BAND_5GHZ) == 1976000,
	      "ppdu @ 6 = %u", airtime_ppdu_ns(1462, 6000, AIRTIME_BAND_5GHZ));
	/* 2.4 GHz OFDM adds the signal extension. */
	CHECK(airtime_ppdu_ns(1462, 54000, AIRTIME_BAND_2GHZ) == 246000, "erp ppdu");
	/* DSSS 1 Mb/s: 192 us + 8 us per byte. */
	CHECK(airtime_ppdu_ns(100, 1000, AIRTIME_BAND_2GHZ) == 992000, "dsss ppdu");
	/* HT-ish 65 Mb/s: 36 us + ceil(11718 / 260) = 46 symbols. */
	CHECK(airtime_ppdu_ns(1462, 65000, AIRTIME_BAND_5GHZ) == 36000 + 46 * 4000,
	      "ht ppdu");
	CHECK(airtime_overhead_ns(AIRTIME_OVERHEAD_NONE, 0, 54000) == 0, "none");
	/* Zero rates are refused; huge frames saturate instead of wrapping. */
	CHECK(airtime_ppdu_ns(1500, 0, 0) == 0, "zero rate");
	CHECK(airtime_estimate_ns(&s, 1500, 0) == 0, "zero rate estimate");
	CHECK(airtime_ppdu_ns(UINT32_MAX, 1, 0) == UINT32_MAX, "huge frame saturates");
	CHECK(airtime_ppdu_ns(UINT32_MAX, UINT32_MAX, 0) > 0, "huge rate");
	CHECK(airtime_estimate_ns(&s, UINT32_MAX, 1000) == UINT32_MAX, "huge estimate");
	/* Monotonic in length, antitone in rate. */
	CHECK(airtime_estimate_ns(&s, 1500, 24000) > airtime_estimate_ns(&s, 1000, 24000),
	      "longer frame");
	CHECK(airtime_estimate_ns(&s, 1500, 12000) > airtime_estimate_ns(&s, 1500, 24000),
	      "slower rate");
}

static void test_params(void)
{
	struct airtime_params p;
	struct airtime_sched s;

	airtime_params_default(&p);
	CHECK(airtime_params_validate(&p) == 0, "defaults valid");
	CHECK(p.interval_ns == 100 * MS && p.inflight_budget_ns == 4 * MS &&
	      p.overhead == AIRTIME_OVERHEAD_DCF, "defaults match the YANG");
	p.interval_ns = 999 * US;
	CHECK(airtime_params_validate(&p) == -EINVAL, "interval too short");
	p.interval_ns = 2 * SEC;
	CHECK(airtime_sched_init(&s, &p, 0) == -EINVAL, "interval too long");
	airtime_params_default(&p);
	p.inflight_budget_ns = 50 * US;
	CHECK(airtime_params_validate(&p) == -EINVAL, "budget too small");
	airtime_params_default(&p);
	p.overhead = 7;
	CHECK(airtime_params_validate(&p) == -EINVAL, "bad overhead");
	airtime_params_default(&p);
	p.band = 9;
	CHECK(airtime_params_validate(&p) == -EINVAL, "bad band");
	airtime_params_default(&p);
	p.cf_ewma_shift = 40;
	CHECK(airtime_params_validate(&p) == -EINVAL, "bad shift");
	airtime_params_default(&p);
	p.reserved = 1;
	CHECK(airtime_params_validate(&p) == -EINVAL, "reserved");
	airtime_params_default(&p);
	p.stall_ns = 0;
	p.cf_ewma_shift = 0;
	CHECK(airtime_sched_init(&s, &p, 0) == 0 &&
	      s.p.stall_ns == AIRTIME_STALL_DEFAULT_NS &&
	      s.p.cf_ewma_shift == AIRTIME_CF_EWMA_DEFAULT, "zero means default");
}

static void test_bad_shares(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct airtime_vif v[AIRTIME_MAX_VIFS + 1];
	struct airtime_sched s;
	u32 i;

	airtime_sched_init(&s, &p, 0);
	CHECK(airtime_vif_add(&s, &v[0], 10001, AIRTIME_NO_CAP, 0) == -EINVAL, ">100%");
	CHECK(airtime_vif_add(&s, &v[0], 3000, 2000, 0) == -EINVAL, "cap < g");
	CHECK(airtime_vif_add(&s, &v[0], 3000, 10001, 0) == -EINVAL, "cap > 100%");
	CHECK(s.active_mask == 0, "nothing registered after refusals");
	for (i = 0; i < AIRTIME_MAX_VIFS; i++)
		CHECK(airtime_vif_add(&s, &v[i], 100, AIRTIME_NO_CAP, 0) == (int)i,
		      "slot %u", i);
	CHECK(airtime_vif_add(&s, &v[AIRTIME_MAX_VIFS], 0, AIRTIME_NO_CAP, 0) ==
	      -ENOSPC, "33rd vif");
	CHECK(airtime_vif_set_share(&s, &v[1], 500, 400, 0) == -EINVAL, "set cap < g");
	CHECK(v[1].guaranteed == 100 && v[1].cap == AIRTIME_NO_CAP,
	      "refused change leaves the vif");
	CHECK(airtime_vif_set_share(&s, &v[AIRTIME_MAX_VIFS], 500, AIRTIME_NO_CAP, 0) ==
	      -EINVAL, "set share of an unknown vif");
	CHECK(airtime_vif_enqueue(&s, &v[AIRTIME_MAX_VIFS], 100, 0) == -EINVAL,
	      "enqueue to an unknown vif");
	CHECK(airtime_vif_drop(&s, &v[0], 100, true, 0) == -EINVAL,
	      "drop from an empty queue");
}

/* ---- Guarantees --------------------------------------------------------------- */

/* 20/30/50 at 54/24/6 Mb/s, saturated: airtime, not throughput, splits. */
static void guarantee_case(enum driver drv, u32 status_pct, u64 start)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	int idx[3];
	u64 before[3];
	double sh[3];
	struct airtime_vif_stats st;

	radio_init(&r, &p, start, drv);
	r.status_pct = status_pct;
	add_20_30_50(&r, idx);
	radio_run(&r, 1 * SEC);		/* let the factor settle */
	snapshot(&r, idx, 3, before);
	radio_run(&r, 6 * SEC);
	shares(&r, idx, 3, before, sh);
	CHECK_NEAR(sh[0], 20, 0.5, "share of the 20 % vif");
	CHECK_NEAR(sh[1], 30, 0.5, "share of the 30 % vif");
	CHECK_NEAR(sh[2], 50, 0.5, "share of the 50 % vif");
	/* The radio is paced to real time: charged airtime ~ elapsed. */
	CHECK_NEAR((double)(charged(&r, 0) + charged(&r, 1) + charged(&r, 2)) / (6 * SEC),
		   1.0, 0.01, "charged airtime per second");
	/* Throughput differs from airtime: 20 % at 54 Mb/s sends more frames
	 * than 50 % at 6 Mb/s (507 vs 233 a second). */
	CHECK(r.q[idx[0]].sent > r.q[idx[2]].sent * 2, "frames follow rates");
	vif_stats(&r, idx[2], &st);
	CHECK_NEAR((double)st.backlogged_ns, 6 * SEC, 1 * MS, "backlogged all along");
	CHECK(st.borrowed_ns < 50 * MS, "little borrowing when shares sum to 100 %");
	if (status_pct)
		CHECK(st.status_packets > 0 && st.estimate_packets == 0,
		      "charged from TX status");
	else
		CHECK(st.status_packets == 0 && st.estimate_packets > 0,
		      "estimate stands without TX status");
}

static void test_guarantee_instant(void)
{
	guarantee_case(DRV_INSTANT, 0, 5 * SEC);
}

static void test_guarantee_channel(void)
{
	guarantee_case(DRV_CHANNEL, 0, 5 * SEC);
}

static void test_guarantee_status(void)
{
	guarantee_case(DRV_CHANNEL, 100, 5 * SEC);
}

/* Per interval, not only on average: every interval meets the shares. */
static void test_guarantee_per_interval(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	int idx[3], k, worst_ivl = -1;
	u64 before[3];
	double sh[3], worst = 0;

	radio_init(&r, &p, 0, DRV_INSTANT);
	add_20_30_50(&r, idx);
	radio_run(&r, 100 * MS);
	for (k = 1; k < 30; k++) {
		snapshot(&r, idx, 3, before);
		radio_run(&r, (u64)(k + 1) * 100 * MS - 1);
		shares(&r, idx, 3, before, sh);
		/* One 6 Mb/s frame is 2.1 % of an interval. */
		if (fabs(sh[2] - 50) > worst) {
			worst = fabs(sh[2] - 50);
			worst_ivl = k;
		}
		CHECK_NEAR(sh[0], 20, 2.5, "20 % vif in one interval");
		CHECK_NEAR(sh[1], 30, 2.5, "30 % vif in one interval");
		CHECK_NEAR(sh[2], 50, 2.5, "50 % vif in one interval");
	}
	(void)worst_ivl;
}

/* ---- Work conservation ----------------------------------------------------------- */

static void test_lone_vif(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	struct airtime_vif_stats st;
	int a;

	radio_init(&r, &p, 0, DRV_INSTANT);
	a = radio_add(&r, 2000, AIRTIME_NO_CAP, 1462, 54000, true);
	radio_add(&r, 3000, AIRTIME_NO_CAP, 1462, 24000, false);
	radio_add(&r, 5000, AIRTIME_NO_CAP, 1462, 6000, false);
	radio_run(&r, 3 * SEC);
	vif_stats(&r, a, &st);
	CHECK_NEAR((double)st.charged_ns / (3 * SEC), 1.0, 0.01,
		   "a lone 20 % vif gets the whole radio");
	CHECK_NEAR((double)st.borrowed_ns / (3 * SEC), 0.8, 0.01,
		   "and borrows what the idle vifs leave");
	CHECK(st.throttled_ns == 0, "never throttled");
}

/* Spare airtime is lent in proportion to the guarantees. */
static void test_borrow_proportional(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	int idx[2];
	double sh[2];

	radio_init(&r, &p, 0, DRV_INSTANT);
	idx[0] = radio_add(&r, 2000, AIRTIME_NO_CAP, 1462, 54000, true);
	idx[1] = radio_add(&r, 3000, AIRTIME_NO_CAP, 1462, 6000, true);
	radio_add(&r, 5000, AIRTIME_NO_CAP, 1462, 24000, false);
	measure_shares(&r, idx, 2, 1 * SEC, 5 * SEC, sh);
	CHECK_NEAR(sh[0], 40, 0.5, "20 % vif with 30 % and an idle 50 %");
	CHECK_NEAR(sh[1], 60, 0.5, "30 % vif with 20 % and an idle 50 %");
}

/* A vif guaranteed nothing lives on what the others leave. */
static void test_zero_guarantee(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	int a, b;
	u64 ca, cb;

	radio_init(&r, &p, 0, DRV_INSTANT);
	a = radio_add(&r, 0, AIRTIME_NO_CAP, 1462, 54000, true);
	b = radio_add(&r, 6000, AIRTIME_NO_CAP, 1462, 54000, true);
	radio_run(&r, 2 * SEC);
	ca = charged(&r, a);
	cb = charged(&r, b);
	CHECK(cb >= 0.99 * 2 * SEC * 0.6, "guarantee holds against best effort");
	CHECK((double)ca / (ca + cb) < 0.01, "best effort gets ~nothing of the spare "
	      "while a guaranteed vif borrows (%.3f)", (double)ca / (ca + cb));
	/* Alone it gets everything. */
	r.q[b].saturated = false;
	radio_run(&r, 2 * SEC + 100 * MS);	/* drain b's queue */
	ca = charged(&r, a);
	radio_run(&r, 4 * SEC);
	CHECK_NEAR((double)(charged(&r, a) - ca) / (1900 * MS), 1.0, 0.01,
		   "best effort alone gets the radio");
}

/* A vif that becomes backlogged mid-interval still gets its credit first. */
static void test_priority_of_guarantee(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	struct airtime_vif_stats st;
	int a, b;
	u64 cb;

	radio_init(&r, &p, 0, DRV_INSTANT);
	a = radio_add(&r, 2000, AIRTIME_NO_CAP, 1462, 54000, true);
	b = radio_add(&r, 5000, AIRTIME_NO_CAP, 1462, 54000, false);
	radio_run(&r, 1 * SEC + 40 * MS);
	/* 40 ms into an interval b gets a burst of 100 frames (~39 ms). */
	radio_enqueue(&r, &r.q[b], 100);
	cb = charged(&r, b);
	radio_run(&r, 1 * SEC + 90 * MS);
	/* b had 50 ms of credit: its 39 ms go out before a borrows again. */
	CHECK(charged(&r, b) - cb >= 100 * 390 * US, "burst sent within the interval");
	CHECK(r.q[b].queued == 0, "burst drained");
	vif_stats(&r, a, &st);
	CHECK(st.throttled_ns > 30 * MS, "the borrower was held back (%" PRIu64 ")",
	      st.throttled_ns);
}

/* ---- Caps --------------------------------------------------------------------------- */

static void test_cap_idle_radio(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	struct airtime_vif_stats st;
	int a, k;
	u64 before = 0, used;

	radio_init(&r, &p, 0, DRV_INSTANT);
	a = radio_add(&r, 1000, 3000, 1462, 24000, true);
	for (k = 0; k < 20; k++) {
		/* Stop short of the boundary, where the next interval begins. */
		radio_run(&r, (u64)(k + 1) * 100 * MS - 1);
		used = charged(&r, a) - before;
		before += used;
		/* 30 ms per interval, at most one frame of overshoot carried. */
		CHECK(used <= 30 * MS + 700 * US, "interval %d: %" PRIu64 " ns", k, used);
		CHECK(used >= 30 * MS - 700 * US, "interval %d: %" PRIu64 " ns", k, used);
	}
	vif_stats(&r, a, &st);
	/* Released up to one budget ahead of the clock, it reaches its cap
	 * 4 ms early: throttled for 74 ms of each interval. */
	CHECK_NEAR((double)st.throttled_ns / (2 * SEC), 0.74, 0.01,
		   "throttled 74 % of the time");
}

static void test_cap_with_competition(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	int idx[2];
	u64 before[2];
	double sh[2];

	radio_init(&r, &p, 0, DRV_INSTANT);
	idx[0] = radio_add(&r, 2000, 2500, 1462, 54000, true);
	idx[1] = radio_add(&r, 2000, AIRTIME_NO_CAP, 1462, 54000, true);
	radio_run(&r, 1 * SEC);
	snapshot(&r, idx, 2, before);
	radio_run(&r, 4 * SEC);
	shares(&r, idx, 2, before, sh);
	/* Equal guarantees would split 50/50; the cap holds the first to 25. */
	CHECK_NEAR(sh[0], 25, 0.5, "capped vif");
	CHECK_NEAR((double)(charged(&r, idx[0]) - before[0]) / (3 * SEC), 0.25, 0.005,
		   "capped vif's airtime");
	CHECK_NEAR((double)(charged(&r, idx[1]) - before[1]) / (3 * SEC), 0.75, 0.01,
		   "the other takes the rest");
}

static void test_cap_zero(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	int a;

	radio_init(&r, &p, 0, DRV_INSTANT);
	a = radio_add(&r, 0, 0, 1462, 54000, true);
	radio_run(&r, 1 * SEC);
	CHECK(r.q[a].sent == 0, "a cap of 0 silences the vif (%" PRIu64 " sent)",
	      r.q[a].sent);
}

/* Lifting a cap does not let the vif catch up on what the cap kept from it. */
static void test_cap_lift_no_burst(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	int idx[2];
	u64 before[2];
	double sh[2];

	radio_init(&r, &p, 0, DRV_INSTANT);
	idx[0] = radio_add(&r, 2000, 2500, 1462, 54000, true);
	idx[1] = radio_add(&r, 2000, AIRTIME_NO_CAP, 1462, 54000, true);
	radio_run(&r, 3 * SEC + 10 * MS);	/* before the cap bites */
	CHECK(airtime_vif_set_share(&r.s, &r.q[idx[0]].v, 2000, AIRTIME_NO_CAP,
				    at(&r)) == 0, "lift the cap");
	snapshot(&r, idx, 2, before);
	radio_run(&r, 3 * SEC + 310 * MS);
	shares(&r, idx, 2, before, sh);
	CHECK_NEAR(sh[0], 50, 2, "equal split right after the cap is lifted");
}

/* ---- In-flight budget --------------------------------------------------------------- */

static void test_inflight_instant(void)
{
	struct airtime_params p = params(100 * MS, 2 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;

	radio_init(&r, &p, 0, DRV_INSTANT);
	radio_add(&r, 5000, AIRTIME_NO_CAP, 1462, 6000, true);
	radio_add(&r, 5000, AIRTIME_NO_CAP, 200, 54000, true);
	radio_run(&r, 2 * SEC);
	CHECK(r.max_inflight <= p.inflight_budget_ns + r.max_frame,
	      "virtual clock lead %" PRIu64 " > budget + frame %" PRIu64,
	      r.max_inflight, p.inflight_budget_ns + r.max_frame);
	CHECK(r.max_inflight >= p.inflight_budget_ns, "budget used");
	CHECK_NEAR((double)(charged(&r, 0) + charged(&r, 1)) / (2 * SEC), 1.0, 0.01,
		   "released airtime tracks real time");
}

static void test_inflight_channel(void)
{
	struct airtime_params p = params(100 * MS, 3 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	struct airtime_sched_stats st;

	radio_init(&r, &p, 0, DRV_CHANNEL);
	r.status_pct = 300;	/* the channel is 3x slower than estimated */
	radio_add(&r, 5000, AIRTIME_NO_CAP, 1462, 24000, true);
	radio_add(&r, 5000, AIRTIME_NO_CAP, 1462, 54000, true);
	radio_run(&r, 2 * SEC);
	CHECK(r.max_inflight <= p.inflight_budget_ns + r.max_frame,
	      "outstanding %" PRIu64 " > budget + frame", r.max_inflight);
	airtime_sched_get_stats(&r.s, at(&r), &st);
	CHECK(st.outstanding_ns <= p.inflight_budget_ns + r.max_frame, "outstanding now");
	CHECK(st.inflight_packets == r.count, "in-flight frames %u vs channel %u",
	      st.inflight_packets, r.count);
}

/* ---- Congestion factor ---------------------------------------------------------------- */

static void test_congestion_converges(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	struct airtime_vif_stats st;
	int a;

	radio_init(&r, &p, 0, DRV_CHANNEL);
	r.status_pct = 130;
	a = radio_add(&r, 10000, AIRTIME_NO_CAP, 1462, 24000, true);
	radio_run(&r, 2 * SEC);
	vif_stats(&r, a, &st);
	CHECK_NEAR(st.congestion_q16 / 65536.0, 1.30, 0.01, "factor -> measured/estimated");
	/* Frames still in flight are charged their estimate until completed. */
	CHECK(st.charged_ns - st.measured_ns <= p.inflight_budget_ns + r.max_frame,
	      "charged = measured with TX status");
	CHECK_NEAR((double)st.charged_ns / (2 * SEC), 1.0, 0.02,
		   "measured airtime fills the radio");

	/* Back to accurate estimates: it comes down again. */
	r.status_pct = 100;
	radio_run(&r, 4 * SEC);
	vif_stats(&r, a, &st);
	CHECK_NEAR(st.congestion_q16 / 65536.0, 1.0, 0.01, "factor returns to 1");
}

/* Without an overhead model the factor learns the MAC overhead. */
static void test_congestion_learns_overhead(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_NONE);
	static struct radio r;
	struct airtime_vif_stats st;
	int a;
	double want;

	radio_init(&r, &p, 0, DRV_CHANNEL);
	r.status_pct = 100;
	a = radio_add(&r, 10000, AIRTIME_NO_CAP, 1462, 54000, true);
	radio_run(&r, 2 * SEC);
	vif_stats(&r, a, &st);
	want = (double)true_airtime(&r, 1462, 54000) / airtime_ppdu_ns(1462, 54000, 0);
	CHECK_NEAR(st.congestion_q16 / 65536.0, want, 0.01, "factor learns DCF overhead");
}

/* Shares stay right when measured airtime differs per vif. */
static void test_congestion_shares(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	int idx[2];
	u64 before[2], air0, air1;
	double sh[2];

	radio_init(&r, &p, 0, DRV_CHANNEL);
	r.status_pct = 150;
	idx[0] = radio_add(&r, 3000, AIRTIME_NO_CAP, 1462, 54000, true);
	idx[1] = radio_add(&r, 7000, AIRTIME_NO_CAP, 1462, 12000, true);
	radio_run(&r, 1 * SEC);
	snapshot(&r, idx, 2, before);
	air0 = r.q[idx[0]].air_ns;
	air1 = r.q[idx[1]].air_ns;
	radio_run(&r, 5 * SEC);
	shares(&r, idx, 2, before, sh);
	CHECK_NEAR(sh[0], 30, 0.5, "30 % by charged (measured) airtime");
	air0 = r.q[idx[0]].air_ns - air0;
	air1 = r.q[idx[1]].air_ns - air1;
	CHECK_NEAR(100.0 * air0 / (air0 + air1), 30, 0.5, "30 % by true airtime");
}

/* ---- Overflow and wrap ----------------------------------------------------------------- */

static void test_clock_wrap(void)
{
	/* Start 2 s before the u64 clock wraps; run across it. */
	guarantee_case(DRV_INSTANT, 0, UINT64_MAX - 2 * SEC);
	guarantee_case(DRV_CHANNEL, 100, UINT64_MAX - 3 * SEC + 17);
}

static void test_huge_values(void)
{
	struct airtime_params p = params(1 * SEC, 100 * MS, AIRTIME_OVERHEAD_DCF);
	struct airtime_sched s;
	struct airtime_vif v;
	struct airtime_vif_stats st;
	struct airtime_tx tx;
	u64 now = UINT64_MAX - 10, wake;
	int k;

	CHECK(airtime_sched_init(&s, &p, now) == 0, "init");
	CHECK(airtime_vif_add(&s, &v, 10000, AIRTIME_NO_CAP, now) == 0, "add");
	/* A congestion factor at its ceiling times a saturated estimate. */
	v.cf = AIRTIME_CF_MAX;
	for (k = 0; k < 3; k++) {
		airtime_vif_enqueue(&s, &v, UINT32_MAX, now);
		CHECK(airtime_vif_dequeue(&s, &v, UINT32_MAX,
					  airtime_estimate_ns(&s, UINT32_MAX, 1),
					  now, &tx) == 0, "huge dequeue");
		CHECK(tx.charge_ns == UINT32_MAX, "charge saturates");
		airtime_tx_complete(&s, &tx, UINT32_MAX, now);
		now += 7;
	}
	airtime_vif_get_stats(&s, &v, now, &st);
	CHECK(st.tx_bytes == 3ULL * UINT32_MAX, "bytes count in 64 bits");
	CHECK(st.charged_ns == 3ULL * UINT32_MAX, "charged in 64 bits");
	/* The radio is far ahead of real time and says so. */
	CHECK(airtime_vif_poll(&s, &v, now, &wake) == AIRTIME_IDLE, "idle");
	airtime_vif_enqueue(&s, &v, 100, now);
	CHECK(airtime_vif_poll(&s, &v, now, &wake) == AIRTIME_WAIT_INFLIGHT,
	      "in-flight budget closed by the virtual clock");
	CHECK((s64)(wake - now) > 0 &&
	      (s64)(wake - airtime_sched_interval_end(&s)) <= 0, "wake in range");
	/* Measured airtime far below the estimate: the factor hits its floor. */
	for (k = 0; k < 400; k++) {
		airtime_vif_enqueue(&s, &v, 1500, now);
		airtime_vif_dequeue(&s, &v, 1500, UINT32_MAX, now, &tx);
		airtime_tx_complete(&s, &tx, 1, now);
	}
	airtime_vif_get_stats(&s, &v, now, &st);
	CHECK(st.congestion_q16 == AIRTIME_CF_MIN, "factor floor (%u)", st.congestion_q16);
}

static void test_zero_rate_rejected(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	struct airtime_sched s, copy;
	struct airtime_vif v, vcopy;
	struct airtime_tx tx;

	memset(&tx, 0, sizeof(tx));
	airtime_sched_init(&s, &p, 0);
	airtime_vif_add(&s, &v, 5000, AIRTIME_NO_CAP, 0);
	airtime_vif_enqueue(&s, &v, 1500, 0);
	copy = s;
	vcopy = v;
	CHECK(airtime_vif_dequeue(&s, &v, 1500, airtime_estimate_ns(&s, 1500, 0), 0,
				  &tx) == -EINVAL, "zero estimate refused");
	CHECK(memcmp(&v, &vcopy, sizeof(v)) == 0, "vif unchanged");
	CHECK(s.vclock == copy.vclock && s.outstanding_ns == copy.outstanding_ns,
	      "radio unchanged");
	CHECK(!(tx.flags & AIRTIME_TX_VALID), "no record");
	/* Completing a record that was never filled does nothing. */
	airtime_tx_complete(&s, &tx, 1000, 0);
	CHECK(s.outstanding_ns == 0 && s.orphan_completions == 0, "invalid record ignored");
	/* The fallback rate gives a usable estimate. */
	CHECK(airtime_vif_dequeue(&s, &v, 1500,
				  airtime_estimate_ns(&s, 1500, AIRTIME_FALLBACK_RATE_KBPS),
				  0, &tx) == 0, "fallback rate");
}

/* ---- Add, remove, change ----------------------------------------------------------------- */

static void test_add_mid_interval(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	int idx[2];
	double sh[2];
	struct airtime_vif_stats st;

	radio_init(&r, &p, 0, DRV_INSTANT);
	idx[0] = radio_add(&r, 3000, AIRTIME_NO_CAP, 1462, 54000, true);
	radio_run(&r, 1 * SEC + 50 * MS);
	idx[1] = radio_add(&r, 7000, AIRTIME_NO_CAP, 1462, 24000, true);
	vif_stats(&r, idx[1], &st);
	CHECK_NEAR((double)st.credit_ns, 35 * MS, 1000, "credit prorated to the half interval");
	measure_shares(&r, idx, 2, 2 * SEC, 4 * SEC, sh);
	CHECK_NEAR(sh[0], 30, 0.5, "30 % after a vif joined");
	CHECK_NEAR(sh[1], 70, 0.5, "70 % for the new vif");
}

static void test_remove_in_flight(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	struct airtime_sched_stats st;
	struct airtime_vif_stats vs;
	int a, b, c;
	u32 slot_b;

	radio_init(&r, &p, 0, DRV_CHANNEL);
	r.status_pct = 100;
	a = radio_add(&r, 5000, AIRTIME_NO_CAP, 1462, 6000, true);
	b = radio_add(&r, 5000, AIRTIME_NO_CAP, 1462, 6000, true);
	radio_run(&r, 500 * MS + 7 * MS);
	CHECK(r.count > 0, "frames on the channel");
	slot_b = r.q[b].v.slot;
	/* The module drops b's queue and removes it mid-interval. */
	airtime_vif_purge(&r.s, &r.q[b].v, at(&r));
	airtime_vif_remove(&r.s, &r.q[b].v, at(&r));
	r.q[b].used = false;
	/* A new vif takes the slot while b's frames are still in flight. */
	c = radio_add(&r, 5000, AIRTIME_NO_CAP, 1462, 54000, false);
	CHECK(r.q[c].v.slot == slot_b, "slot reused");
	radio_run(&r, 1 * SEC);
	airtime_sched_get_stats(&r.s, at(&r), &st);
	CHECK(st.orphan_completions > 0, "completions of the removed vif counted apart");
	vif_stats(&r, c, &vs);
	CHECK(vs.charged_ns == 0 && vs.status_packets == 0,
	      "old frames not charged to the slot's new vif");
	CHECK_NEAR((double)charged(&r, a) / SEC, 0.75, 0.02,
		   "the remaining vif takes the radio");
	/* Stop everything: all airtime comes back. */
	r.q[a].saturated = false;
	radio_run(&r, 2 * SEC);
	airtime_sched_get_stats(&r.s, at(&r), &st);
	CHECK(st.outstanding_ns == 0 && st.inflight_packets == 0,
	      "nothing left in flight (%" PRIu64 ")", st.outstanding_ns);
}

static void test_change_shares(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	int idx[3];
	double sh[3];

	radio_init(&r, &p, 0, DRV_INSTANT);
	add_20_30_50(&r, idx);
	radio_run(&r, 2 * SEC + 37 * MS);
	/* Swap 20 and 50, increasing first: the sum passes 100 % for a while. */
	CHECK(airtime_vif_set_share(&r.s, &r.q[idx[0]].v, 5000, AIRTIME_NO_CAP,
				    at(&r)) == 0, "raise");
	radio_run(&r, 2 * SEC + 61 * MS);
	CHECK(airtime_vif_set_share(&r.s, &r.q[idx[2]].v, 2000, AIRTIME_NO_CAP,
				    at(&r)) == 0, "lower");
	/* Within 200 ms (two intervals) the new split holds. */
	measure_shares(&r, idx, 3, 2 * SEC + 261 * MS, 4 * SEC + 261 * MS, sh);
	CHECK_NEAR(sh[0], 50, 0.5, "raised to 50");
	CHECK_NEAR(sh[1], 30, 0.5, "30 unchanged");
	CHECK_NEAR(sh[2], 20, 0.5, "lowered to 20");
}

static void test_change_params(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	int idx[2];
	double sh[2];

	radio_init(&r, &p, 0, DRV_INSTANT);
	idx[0] = radio_add(&r, 2500, AIRTIME_NO_CAP, 1462, 54000, true);
	idx[1] = radio_add(&r, 7500, AIRTIME_NO_CAP, 1462, 6000, true);
	radio_run(&r, 1 * SEC + 13 * MS);
	p = params(20 * MS, 1 * MS, AIRTIME_OVERHEAD_NONE);
	CHECK(airtime_sched_set_params(&r.s, &p, at(&r)) == 0, "set params");
	measure_shares(&r, idx, 2, 1 * SEC + 113 * MS, 3 * SEC, sh);
	CHECK_NEAR(sh[0], 25, 1.0, "25 % with a 20 ms interval");
	p.interval_ns = 5;
	CHECK(airtime_sched_set_params(&r.s, &p, at(&r)) == -EINVAL, "bad params refused");
	CHECK(r.s.p.interval_ns == 20 * MS, "and not applied");
}

/* A guaranteed vif whose qdisc stops running must not block the others. */
static void test_stalled_vif(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	static struct radio r;
	int a, b;
	u64 ca;

	p.stall_ns = 5 * MS;
	radio_init(&r, &p, 0, DRV_INSTANT);
	a = radio_add(&r, 2000, AIRTIME_NO_CAP, 1462, 54000, true);
	b = radio_add(&r, 8000, AIRTIME_NO_CAP, 1462, 54000, true);
	radio_run(&r, 1 * SEC);
	r.q[b].stopped = true;		/* its netdev queue was stopped */
	ca = charged(&r, a);
	radio_run(&r, 2 * SEC);
	CHECK_NEAR((double)(charged(&r, a) - ca) / SEC, 1.0, 0.03,
		   "the other vif borrows the stalled vif's airtime");
	r.q[b].stopped = false;
	r.q[b].runnable = true;
	ca = charged(&r, a);
	radio_run(&r, 3 * SEC);
	CHECK_NEAR((double)(charged(&r, a) - ca) / SEC, 0.2, 0.01,
		   "and the guarantee returns when it runs again");
}

/* ---- Accounting ----------------------------------------------------------------------------- */

static void test_drops_and_purge(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);
	struct airtime_sched s;
	struct airtime_vif v;
	struct airtime_vif_stats st;
	int k;

	airtime_sched_init(&s, &p, 0);
	airtime_vif_add(&s, &v, 5000, AIRTIME_NO_CAP, 0);
	for (k = 0; k < 10; k++)
		airtime_vif_enqueue(&s, &v, 1000, 0);
	CHECK(airtime_vif_drop(&s, &v, 1000, true, 1 * MS) == 0, "drop queued");
	CHECK(airtime_vif_drop(&s, &v, 500, false, 1 * MS) == 0, "refuse at enqueue");
	airtime_vif_get_stats(&s, &v, 2 * MS, &st);
	CHECK(st.backlog_packets == 9 && st.backlog_bytes == 9000, "backlog");
	CHECK(st.drop_packets == 2 && st.drop_bytes == 1500, "drops");
	airtime_vif_purge(&s, &v, 3 * MS);
	airtime_vif_get_stats(&s, &v, 10 * MS, &st);
	CHECK(st.backlog_packets == 0 && st.backlog_bytes == 0, "purged");
	CHECK(st.drop_packets == 11 && st.drop_bytes == 10500, "purge counted");
	CHECK(st.backlogged_ns == 3 * MS, "backlogged until the purge");
}

static void run_fixed_scenario(struct radio *r)
{
	struct airtime_params p = params(50 * MS, 3 * MS, AIRTIME_OVERHEAD_DCF);

	radio_init(r, &p, 12345, DRV_CHANNEL);
	r->status_pct = 120;
	radio_add(r, 2000, 4000, 1462, 54000, true);
	radio_add(r, 3000, AIRTIME_NO_CAP, 700, 24000, true);
	radio_add(r, 1000, AIRTIME_NO_CAP, 1462, 6000, true);
	radio_run(r, 1 * SEC);
}

static void test_deterministic(void)
{
	static struct radio r1, r2;
	struct airtime_vif_stats a, b;
	int k;

	run_fixed_scenario(&r1);
	run_fixed_scenario(&r2);
	for (k = 0; k < 3; k++) {
		vif_stats(&r1, k, &a);
		vif_stats(&r2, k, &b);
		CHECK(memcmp(&a, &b, sizeof(a)) == 0, "vif %d stats differ", k);
	}
}

/* ---- The simulator's batch driver ----------------------------------------------------------- */

static struct airtime_sim *sim_new(void)
{
	struct airtime_params p = params(100 * MS, 4 * MS, AIRTIME_OVERHEAD_DCF);

	return airtime_sim_create(&p, 0);
}

static void sim_shares_case(u64 airtime_per_step, double *air_share, u64 *used)
{
	struct airtime_sim *sim = sim_new();
	struct airtime_sim_vif_in in[3] = {
		{ AIRTIME_SIM_SATURATED, 1462, 54000 },
		{ AIRTIME_SIM_SATURATED, 1462, 24000 },
		{ AIRTIME_SIM_SATURATED, 1462, 6000 },
	};
	struct airtime_sim_step_in step = { 10 * MS, airtime_per_step, 0, 0 };
	struct airtime_sim_vif_out out[3];
	struct airtime_sim_step_out rout;
	u64 air[3] = { 0 }, total = 0;
	int k, i;

	CHECK(airtime_sim_vif_add(sim, 2000, AIRTIME_NO_CAP) == 0, "add");
	CHECK(airtime_sim_vif_add(sim, 3000, AIRTIME_NO_CAP) == 1, "add");
	CHECK(airtime_sim_vif_add(sim, 5000, AIRTIME_NO_CAP) == 2, "add");
	*used = 0;
	for (k = 0; k < 500; k++) {
		CHECK(airtime_sim_step(sim, &step, in, 3, out, &rout) == 0, "step");
		CHECK(rout.airtime_ns <= step.airtime_ns, "used <= won");
		if (k < 100)
			continue;
		for (i = 0; i < 3; i++)
			air[i] += out[i].airtime_ns;
		*used += rout.airtime_ns;
	}
	for (i = 0; i < 3; i++)
		total += air[i];
	for (i = 0; i < 3; i++)
		air_share[i] = 100.0 * air[i] / total;
	airtime_sim_destroy(sim);
}

static void test_sim_shares(void)
{
	double sh[3];
	u64 used;

	/* The radio wins all of the channel, then a third of it. */
	sim_shares_case(10 * MS, sh, &used);
	CHECK_NEAR(sh[0], 20, 0.5, "sim 20 %");
	CHECK_NEAR(sh[1], 30, 0.5, "sim 30 %");
	CHECK_NEAR(sh[2], 50, 0.5, "sim 50 %");
	CHECK_NEAR((double)used / (400 * 10 * MS), 1.0, 0.01, "sim uses what it wins");
	sim_shares_case(10 * MS / 3, sh, &used);
	CHECK_NEAR(sh[0], 20, 0.5, "sim 20 % of a third");
	CHECK_NEAR(sh[2], 50, 0.5, "sim 50 % of a third");
	CHECK_NEAR((double)used / (400 * 10 * MS / 3), 1.0, 0.01, "sim uses its third");
}

static void test_sim_light_load(void)
{
	struct airtime_sim *sim = sim_new();
	/* 2 Mb/s offered at 54 Mb/s next to a saturated vif with a larger share. */
	struct airtime_sim_vif_in in[2] = {
		{ 2000000 / 8 / 100, 1000, 54000 },	/* bytes per 10 ms */
		{ AIRTIME_SIM_SATURATED, 1462, 6000 },
	};
	struct airtime_sim_step_in step = { 10 * MS, 10 * MS, 0, 1 };
	struct airtime_sim_vif_out out[2];
	struct airtime_sim_step_out rout;
	struct airtime_vif_stats st;
	u64 bytes = 0;
	int k;

	airtime_sim_vif_add(sim, 1000, AIRTIME_NO_CAP);
	airtime_sim_vif_add(sim, 9000, AIRTIME_NO_CAP);
	for (k = 0; k < 300; k++) {
		CHECK(airtime_sim_step(sim, &step, in, 2, out, &rout) == 0, "step");
		if (k >= 100)
			bytes += out[0].tx_bytes;
	}
	CHECK_NEAR((double)bytes * 8 / 2.0, 2000000, 20000,
		   "a light vif within its share gets all it offers (b/s)");
	CHECK(out[0].drop_packets == 0, "and drops nothing");
	airtime_sim_vif_stats(sim, 0, &st);
	CHECK(st.status_packets > 0, "TX status reported");
	CHECK_NEAR(st.congestion_q16 / 65536.0, 1.0, 0.02, "factor ~1 with a DCF model");
	airtime_sim_destroy(sim);
}

static void test_sim_overload_drops(void)
{
	struct airtime_sim *sim = sim_new();
	struct airtime_sim_vif_in in[1] = { { 10000000, 1000, 6000 } };	/* 8 Gb/s */
	struct airtime_sim_step_in step = { 10 * MS, 10 * MS, 0, 0 };
	struct airtime_sim_vif_out out[1];
	struct airtime_sim_step_out rout;
	struct airtime_vif_stats st;

	airtime_sim_vif_add(sim, 10000, AIRTIME_NO_CAP);
	airtime_sim_set_queue_limit(sim, 100);
	CHECK(airtime_sim_step(sim, &step, in, 1, out, &rout) == 0, "step");
	CHECK(out[0].backlog_packets == 100, "queue full (%" PRIu64 ")",
	      out[0].backlog_packets);
	CHECK(out[0].drop_packets + out[0].backlog_packets + rout.tx_packets +
	      airtime_sim_sched(sim)->inflight_packets == 10000,
	      "every offered frame accounted for");
	airtime_sim_vif_stats(sim, 0, &st);
	CHECK(st.drop_packets == out[0].drop_packets, "drops reach the core's stats");
	airtime_sim_destroy(sim);
}

static void test_sim_rejects(void)
{
	struct airtime_sim *sim = sim_new(), *sims[2];
	struct airtime_sim_vif_in in[2] = {
		{ AIRTIME_SIM_SATURATED, 1462, 54000 },
		{ 0, 0, 0 },
	}, in2[4];
	struct airtime_sim_step_in step = { 10 * MS, 10 * MS, 0, 0 }, steps[2];
	struct airtime_sim_vif_out out[2], out2[4];
	struct airtime_sim_step_out rout, routs[2];
	struct airtime_vif_stats before, after;
	u32 bad = 99;

	airtime_sim_vif_add(sim, 5000, AIRTIME_NO_CAP);
	CHECK(airtime_sim_step(sim, &step, in, 2, out, &rout) == 0, "good step");
	airtime_sim_vif_stats(sim, 0, &before);

	in[0].rate_kbps = 0;
	CHECK(airtime_sim_step(sim, &step, in, 2, out, &rout) == -EINVAL &&
	      rout.error == AIRTIME_SIM_ERATE && rout.error_slot == 0, "zero rate");
	in[0].rate_kbps = 54000;
	in[1].offered_bytes = 1000;
	in[1].frame_bytes = 100;
	in[1].rate_kbps = 6000;
	CHECK(airtime_sim_step(sim, &step, in, 2, out, &rout) == -EINVAL &&
	      rout.error == AIRTIME_SIM_ENOVIF && rout.error_slot == 1, "no such vif");
	in[1].offered_bytes = 0;
	in[0].frame_bytes = 70000;
	CHECK(airtime_sim_step(sim, &step, in, 2, out, &rout) == -EINVAL &&
	      rout.error == AIRTIME_SIM_EFRAME, "frame too long");
	in[0].frame_bytes = 1462;
	step.airtime_ns = 11 * MS;
	CHECK(airtime_sim_step(sim, &step, in, 2, out, &rout) == -EINVAL &&
	      rout.error == AIRTIME_SIM_EAIRTIME, "airtime > duration");
	step.airtime_ns = 10 * MS;
	step.duration_ns = 0;
	CHECK(airtime_sim_step(sim, &step, in, 2, out, &rout) == -EINVAL &&
	      rout.error == AIRTIME_SIM_EDURATION, "zero duration");
	step.duration_ns = 10 * MS;
	/* A queue without a rate cannot be scheduled. */
	in[0].offered_bytes = 0;
	in[0].rate_kbps = 0;
	CHECK(airtime_sim_step(sim, &step, in, 2, out, &rout) == -EINVAL &&
	      rout.error == AIRTIME_SIM_ERATE, "backlog without rate");
	airtime_sim_vif_stats(sim, 0, &after);
	CHECK(memcmp(&before, &after, sizeof(before)) == 0, "refused steps change nothing");
	CHECK(airtime_sim_now(sim) == 10 * MS, "clock unchanged");

	/* Many radios: one bad radio stops all before any runs. */
	sims[0] = sim;
	sims[1] = sim_new();
	airtime_sim_vif_add(sims[1], 5000, AIRTIME_NO_CAP);
	steps[0] = step;
	steps[1] = step;
	memset(in2, 0, sizeof(in2));
	in2[0] = (struct airtime_sim_vif_in){ AIRTIME_SIM_SATURATED, 1462, 54000 };
	in2[2] = (struct airtime_sim_vif_in){ AIRTIME_SIM_SATURATED, 1462, 0 };
	CHECK(airtime_sim_step_many(sims, 2, steps, in2, 2, out2, routs, &bad) == -EINVAL &&
	      bad == 1 && routs[1].error == AIRTIME_SIM_ERATE, "step_many names radio 1");
	CHECK(airtime_sim_now(sims[0]) == 10 * MS, "radio 0 did not run");
	airtime_sim_destroy(sims[0]);
	airtime_sim_destroy(sims[1]);
}

/* step_many on n radios = n single steps. */
static void test_sim_many_equals_single(void)
{
	enum { R = 3, V = 4 };
	struct airtime_sim *a[R], *b[R];
	struct airtime_sim_vif_in in[R * V];
	struct airtime_sim_step_in steps[R];
	struct airtime_sim_vif_out out_a[R * V], out_b[R * V];
	struct airtime_sim_step_out r_a[R], r_b[R];
	u32 bad;
	int i, k, j;

	memset(in, 0, sizeof(in));
	for (i = 0; i < R; i++) {
		a[i] = sim_new();
		b[i] = sim_new();
		for (j = 0; j <= i; j++) {
			airtime_sim_vif_add(a[i], 2000 + 1000 * j, AIRTIME_NO_CAP);
			airtime_sim_vif_add(b[i], 2000 + 1000 * j, AIRTIME_NO_CAP);
			in[i * V + j] = (struct airtime_sim_vif_in){
				j ? AIRTIME_SIM_SATURATED : 30000, 1000 + 200 * j,
				6000u * (j + 1) };
		}
		steps[i] = (struct airtime_sim_step_in){ 20 * MS, (u64)(i + 1) * 5 * MS,
							 70000, (u32)(i & 1) };
	}
	for (k = 0; k < 50; k++) {
		CHECK(airtime_sim_step_many(a, R, steps, in, V, out_a, r_a, &bad) == 0,
		      "many");
		for (i = 0; i < R; i++)
			CHECK(airtime_sim_step(b[i], &steps[i], &in[i * V], V,
					       &out_b[i * V], &r_b[i]) == 0, "single");
		CHECK(memcmp(out_a, out_b, sizeof(out_a)) == 0, "vif outputs equal");
		CHECK(memcmp(r_a, r_b, sizeof(r_a)) == 0, "radio outputs equal");
	}
	for (i = 0; i < R; i++) {
		airtime_sim_destroy(a[i]);
		airtime_sim_destroy(b[i]);
	}
}

static void test_sim_cap(void)
{
	struct airtime_sim *sim = sim_new();
	struct airtime_sim_vif_in in[1] = { { AIRTIME_SIM_SATURATED, 1462, 24000 } };
	struct airtime_sim_step_in step = { 100 * MS, 100 * MS, 0, 0 };
	struct airtime_sim_vif_out out[1];
	struct airtime_sim_step_out rout;
	u64 air = 0;
	int k;

	airtime_sim_vif_add(sim, 1000, 3500);
	for (k = 0; k < 30; k++) {
		airtime_sim_step(sim, &step, in, 1, out, &rout);
		if (k >= 10)
			air += out[0].airtime_ns;
	}
	CHECK_NEAR((double)air / (20 * 100 * MS), 0.35, 0.005,
		   "a capped vif on an idle radio");
	CHECK(airtime_sim_vif_set_share(sim, 0, 1000, 900) == -EINVAL, "bad change");
	CHECK(airtime_sim_vif_remove(sim, 5) == -EINVAL, "remove unknown");
	CHECK(airtime_sim_vif_remove(sim, 0) == 0, "remove");
	airtime_sim_destroy(sim);
}

/* ---- Runner ------------------------------------------------------------------------------------ */

struct test {
	const char *name;
	void (*fn)(void);
};

static const struct test tests[] = {
	{ "estimates", test_estimates },
	{ "params", test_params },
	{ "bad_shares", test_bad_shares },
	{ "guarantee_instant", test_guarantee_instant },
	{ "guarantee_channel", test_guarantee_channel },
	{ "guarantee_status", test_guarantee_status },
	{ "guarantee_per_interval", test_guarantee_per_interval },
	{ "lone_vif", test_lone_vif },
	{ "borrow_proportional", test_borrow_proportional },
	{ "zero_guarantee", test_zero_guarantee },
	{ "priority_of_guarantee", test_priority_of_guarantee },
	{ "cap_idle_radio", test_cap_idle_radio },
	{ "cap_with_competition", test_cap_with_competition },
	{ "cap_zero", test_cap_zero },
	{ "cap_lift_no_burst", test_cap_lift_no_burst },
	{ "inflight_instant", test_inflight_instant },
	{ "inflight_channel", test_inflight_channel },
	{ "congestion_converges", test_congestion_converges },
	{ "congestion_learns_overhead", test_congestion_learns_overhead },
	{ "congestion_shares", test_congestion_shares },
	{ "clock_wrap", test_clock_wrap },
	{ "huge_values", test_huge_values },
	{ "zero_rate_rejected", test_zero_rate_rejected },
	{ "add_mid_interval", test_add_mid_interval },
	{ "remove_in_flight", test_remove_in_flight },
	{ "change_shares", test_change_shares },
	{ "change_params", test_change_params },
	{ "stalled_vif", test_stalled_vif },
	{ "drops_and_purge", test_drops_and_purge },
	{ "deterministic", test_deterministic },
	{ "sim_shares", test_sim_shares },
	{ "sim_light_load", test_sim_light_load },
	{ "sim_overload_drops", test_sim_overload_drops },
	{ "sim_rejects", test_sim_rejects },
	{ "sim_many_equals_single", test_sim_many_equals_single },
	{ "sim_cap", test_sim_cap },
};

int main(int argc, char **argv)
{
	unsigned int passed = 0, failed = 0, i;

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (argc > 1 && strcmp(argv[1], tests[i].name))
			continue;
		test_failed = 0;
		tests[i].fn();
		printf("%s %s\n", test_failed ? "FAIL" : "ok  ", tests[i].name);
		if (test_failed)
			failed++;
		else
			passed++;
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed || !passed ? 1 : 0;
}
