// SPDX-License-Identifier: GPL-2.0
/*
 * Builds the airtime core alone with kbuild (make -C kmod kcheck), so a
 * change that breaks the kernel build of the core fails here, before the
 * module is built.  Loading it runs one frame through the core.
 */
#include <linux/module.h>
#include <linux/ktime.h>

#include "airtime.h"

static struct airtime_sched sched;
static struct airtime_vif vif;

static int __init airtime_kcheck_init(void)
{
	struct airtime_params p;
	struct airtime_tx tx;
	u64 now = ktime_get_ns(), wake;
	int err;

	airtime_params_default(&p);
	err = airtime_sched_init(&sched, &p, now);
	if (err)
		return err;
	err = airtime_vif_add(&sched, &vif, 5000, AIRTIME_NO_CAP, now);
	if (err < 0)
		return err;
	airtime_vif_enqueue(&sched, &vif, 1500, now);
	if (airtime_vif_poll(&sched, &vif, now, &wake) != AIRTIME_SEND)
		return -EIO;
	err = airtime_vif_dequeue(&sched, &vif, 1500,
				  airtime_estimate_ns(&sched, 1500, 54000),
				  now, &tx);
	if (err)
		return err;
	airtime_tx_complete(&sched, &tx, 0, now);
	airtime_vif_remove(&sched, &vif, now);
	return 0;
}

static void __exit airtime_kcheck_exit(void)
{
}

module_init(airtime_kcheck_init);
module_exit(airtime_kcheck_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ransdn airtime core: kbuild check");
