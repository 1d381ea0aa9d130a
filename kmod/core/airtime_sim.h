/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A simulated radio driven by the airtime core, frame by frame, in C.
 * Userspace only (not built into the kernel module).
 *
 * The shared-medium simulator (testbed/medium) decides, for every radio
 * and every simulation step, how much channel time the radio wins.  It
 * hands that and each vif's offered traffic to airtime_sim_step() (or to
 * airtime_sim_step_many() for a whole city in one call), which runs the
 * same calls the kernel module makes -- airtime_vif_enqueue(), the
 * scheduling decision, airtime_vif_dequeue(), airtime_tx_complete() --
 * for every frame, so no frame crosses the Python/C boundary.
 *
 * Within a step of duration D in which the radio wins airtime A:
 *  - offered bytes arrive evenly over the step as frames of frame_bytes;
 *    a vif queue holds at most queue_limit frames, the rest is dropped
 *    (offered_bytes = AIRTIME_SIM_SATURATED keeps the queue full instead,
 *    without counting drops);
 *  - the scheduler releases frames into a driver FIFO of
 *    AIRTIME_SIM_HWQ frames, subject to its in-flight budget;
 *  - the FIFO transmits one frame after the other, and while it holds
 *    frames the radio's channel time advances A/D times as fast as the
 *    clock: a frame of true airtime a takes a * D / A of wall time;
 *  - a frame's true airtime is its PPDU plus the DCF overhead (the medium
 *    is DCF whatever the scheduler's overhead model) times measured_q16
 *    (> 1.0 models retries and collisions);
 *  - at the end of a frame the driver completes it, reporting the true
 *    airtime as TX status if tx_status is set, else nothing (like hwsim).
 * The frames a step sends are counted when they complete; a frame that
 * is still on the air when the step ends completes in a later step.
 */
#ifndef _AIRTIME_SIM_H
#define _AIRTIME_SIM_H

#include "airtime.h"

#define AIRTIME_SIM_SATURATED		U64_MAX
#define AIRTIME_SIM_HWQ			64	/* driver FIFO, frames */
#define AIRTIME_SIM_QUEUE_DEFAULT	1000	/* per-vif queue, frames */
#define AIRTIME_SIM_FRAME_MAX		65535	/* bytes */
#define AIRTIME_SIM_STEP_MAX_NS		60000000000ULL	/* 60 s */

/* Why a step was refused (airtime_sim_step_out.error). */
enum airtime_sim_error {
	AIRTIME_SIM_OK = 0,
	AIRTIME_SIM_EDURATION = 1,	/* 0, > 60 s, or the clock would wrap */
	AIRTIME_SIM_EAIRTIME = 2,	/* airtime > duration */
	AIRTIME_SIM_ERATE = 3,		/* a vif with traffic has rate 0 */
	AIRTIME_SIM_EFRAME = 4,		/* traffic with frame_bytes 0 or > 65535 */
	AIRTIME_SIM_ENOVIF = 5,		/* traffic offered to an empty slot */
	AIRTIME_SIM_ESCALE = 6,		/* measured_q16 > AIRTIME_CF_MAX */
};

/* One vif's input for one step; arrays of these are indexed by slot. */
struct airtime_sim_vif_in {
	u64 offered_bytes;	/* arriving during the step */
	u32 frame_bytes;	/* MPDU length of its frames */
	u32 rate_kbps;		/* bitrate to its station this step */
};

/* One radio's input for one step. */
struct airtime_sim_step_in {
	u64 duration_ns;	/* step length D */
	u64 airtime_ns;		/* channel time A the radio wins, <= D */
	u32 measured_q16;	/* true airtime / (PPDU + DCF); 0 means 1.0 */
	u32 tx_status;		/* nonzero: driver reports measured airtime */
};

/* One vif's result of one step. */
struct airtime_sim_vif_out {
	u64 tx_packets;		/* frames completed in the step */
	u64 tx_bytes;
	u64 airtime_ns;		/* their true airtime */
	u64 drop_packets;	/* refused by the full queue in the step */
	u64 drop_bytes;
	u64 backlog_packets;	/* queued at the end of the step */
	u64 backlog_bytes;
};

/* One radio's result of one step. */
struct airtime_sim_step_out {
	u64 airtime_ns;		/* channel time used in the step, <= A */
	u64 busy_ns;		/* wall time the driver had frames */
	u64 tx_packets;
	u64 tx_bytes;
	u64 now_ns;		/* the radio's clock after the step */
	u32 error;		/* enum airtime_sim_error; 0 if it ran */
	u32 error_slot;		/* the vif slot the error is about */
};

struct airtime_sim;

/* A radio with no vifs whose clock reads now.  NULL on bad params/ENOMEM. */
struct airtime_sim *airtime_sim_create(const struct airtime_params *p, u64 now);
void airtime_sim_destroy(struct airtime_sim *sim);

int airtime_sim_set_params(struct airtime_sim *sim,
			   const struct airtime_params *p);
/* Per-vif queue length in frames (1 .. 1000000). */
int airtime_sim_set_queue_limit(struct airtime_sim *sim, u32 frames);

/* Add a vif; returns its slot or a negative errno (see airtime_vif_add). */
int airtime_sim_vif_add(struct airtime_sim *sim, u32 guaranteed, u32 cap);
/* Remove a vif; its queue is dropped, its frames in flight complete. */
int airtime_sim_vif_remove(struct airtime_sim *sim, u32 slot);
int airtime_sim_vif_set_share(struct airtime_sim *sim, u32 slot,
			      u32 guaranteed, u32 cap);
int airtime_sim_vif_stats(const struct airtime_sim *sim, u32 slot,
			  struct airtime_vif_stats *st);
void airtime_sim_sched_stats(const struct airtime_sim *sim,
			     struct airtime_sched_stats *st);
u64 airtime_sim_now(const struct airtime_sim *sim);
/* The scheduler itself, e.g. for airtime_estimate_ns(). */
const struct airtime_sched *airtime_sim_sched(const struct airtime_sim *sim);

/*
 * Run one step.  vin and vout have nvif entries, indexed by slot (slots
 * >= nvif get no traffic).  On bad input nothing runs or changes: returns
 * -EINVAL with out->error and out->error_slot set.
 */
int airtime_sim_step(struct airtime_sim *sim,
		     const struct airtime_sim_step_in *in,
		     const struct airtime_sim_vif_in *vin, u32 nvif,
		     struct airtime_sim_vif_out *vout,
		     struct airtime_sim_step_out *out);

/*
 * Run one step on n radios: radio r uses in[r], vin[r * nvif ...] and
 * writes vout[r * nvif ...] and out[r].  All inputs are checked first; if
 * any is bad, no radio runs, -EINVAL is returned and *bad_radio names the
 * first bad radio (its out[] entry says why).
 */
int airtime_sim_step_many(struct airtime_sim *const *sims, u32 n,
			  const struct airtime_sim_step_in *in,
			  const struct airtime_sim_vif_in *vin, u32 nvif,
			  struct airtime_sim_vif_out *vout,
			  struct airtime_sim_step_out *out, u32 *bad_radio);

/* sizeof() of the structs the bindings mirror, by name; 0 if unknown. */
u32 airtime_abi_sizeof(const char *name);

#endif /* _AIRTIME_SIM_H */
