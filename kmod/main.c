// SPDX-License-Identifier: GPL-2.0
/*
 * ransdn airtime: a per-vif airtime scheduler for mac80211 radios.
 *
 * The scheduling arithmetic is the plain-C core in core/ (shared with the
 * user-space library and the simulator); this module connects it to the
 * kernel: a qdisc per vif (qdisc.c), per-wiphy state (phy.c), estimates
 * (estimate.c), completions (inflight.c) and generic netlink (netlink.c).
 */
#include <linux/module.h>
#include <net/genetlink.h>
#include <net/pkt_sched.h>

#include "estimate.h"
#include "inflight.h"
#include "netlink.h"
#include "phy.h"
#include "qdisc.h"

module_param_named(force_station_info, airtime_force_station_info, bool, 0644);
MODULE_PARM_DESC(force_station_info,
		 "Estimate from cfg80211 station info even where mac80211 has a rate table (testing)");

static int __init airtime_module_init(void)
{
	int err;

	err = airtime_inflight_module_init();
	if (err)
		return err;
	err = airtime_phy_module_init();
	if (err)
		goto err_inflight;
	err = airtime_netlink_init();
	if (err)
		goto err_phy;
	err = register_qdisc(&airtime_qdisc_ops);
	if (err)
		goto err_netlink;
	return 0;

err_netlink:
	airtime_netlink_exit();
err_phy:
	airtime_phy_module_exit();
err_inflight:
	airtime_inflight_module_exit();
	return err;
}

/*
 * Every qdisc, phy and frame in flight holds a reference on the module,
 * so by the time this runs there are none; destroying the workqueue waits
 * for a phy's final free work that may still be returning.
 */
static void __exit airtime_module_exit(void)
{
	unregister_qdisc(&airtime_qdisc_ops);
	airtime_netlink_exit();
	airtime_phy_module_exit();
	airtime_inflight_module_exit();
}

module_init(airtime_module_init);
module_exit(airtime_module_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ransdn: per-vif airtime scheduler for mac80211 radios");
MODULE_ALIAS_GENL_FAMILY("ransdn_airtime");
MODULE_ALIAS("sch_airtime");
