/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ransdn_airtime generic netlink family (see uapi/ransdn_airtime.h).
 */
#ifndef _RANSDN_AIRTIME_NETLINK_H
#define _RANSDN_AIRTIME_NETLINK_H

struct airtime_phy;

int airtime_netlink_init(void);
void airtime_netlink_exit(void);

/* Multicast the phy's per-interval report, if anyone listens. */
void airtime_netlink_report(struct airtime_phy *phy);

#endif /* _RANSDN_AIRTIME_NETLINK_H */
