/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ransdn airtime scheduler: the user-space interface.
 *
 * A qdisc of kind "airtime" is attached as the root qdisc of each AP vif
 * of a mac80211 radio; all vifs of one wiphy share one scheduler.  The
 * generic netlink family below configures and observes it.
 *
 * Conventions:
 *  - vifs are named by interface index (RANSDN_AIRTIME_ATTR_IFINDEX) in the
 *    requester's network namespace; a phy is named by the ifindex of any
 *    of its vifs that carries the qdisc.
 *  - airtime is in microseconds; shares are in hundredths of a percent
 *    (0..10000), so 20.50 % is 2050; the congestion factor is in
 *    thousandths (1000 means the estimate matched).
 *  - RANSDN_AIRTIME_ATTR_SOURCE says which source most completed frames
 *    used; the STATUS/ESTIMATE/UNTRACKED packet counters give the split.
 *    Frames that already carry a destructor (locally generated traffic)
 *    cannot be followed to completion and are "untracked": their estimate
 *    stands and they are released from the in-flight budget at once.
 *  - set commands need CAP_NET_ADMIN; every command validates its
 *    attributes strictly: unknown or out-of-range attributes, attributes
 *    meant for another command and trailing data are rejected with an
 *    extended ACK message.
 *
 * The Python mirror of these constants is agent/backends/linux/airtime_uapi.py;
 * a unit test checks the two agree.
 */
#ifndef _UAPI_RANSDN_AIRTIME_H
#define _UAPI_RANSDN_AIRTIME_H

#define RANSDN_AIRTIME_GENL_NAME	"ransdn_airtime"
#define RANSDN_AIRTIME_GENL_VERSION	1
#define RANSDN_AIRTIME_MCGRP_REPORT	"report"

/* The name the qdisc registers under (tc qdisc add ... root airtime). */
#define RANSDN_AIRTIME_QDISC_KIND	"airtime"

enum ransdn_airtime_cmd {
	RANSDN_AIRTIME_CMD_UNSPEC,
	/* Per-phy parameters and global state; do (by IFINDEX) or dump. */
	RANSDN_AIRTIME_CMD_GET_PHY,
	/* Set INTERVAL_US, INFLIGHT_BUDGET_US, OVERHEAD_MODEL, STALL_US (admin). */
	RANSDN_AIRTIME_CMD_SET_PHY,
	/* Per-vif guarantee and statistics; do (by IFINDEX) or dump. */
	RANSDN_AIRTIME_CMD_GET_VIF,
	/* Set SHARE, CAP, QUEUE_LIMIT of one vif (admin). */
	RANSDN_AIRTIME_CMD_SET_VIF,
	/* Per-station rate and estimate: dump, optionally by IFINDEX. */
	RANSDN_AIRTIME_CMD_GET_STA,
	/* Multicast on "report" once per interval: PHY attrs + nested VIFs. */
	RANSDN_AIRTIME_CMD_REPORT,

	__RANSDN_AIRTIME_CMD_MAX,
	RANSDN_AIRTIME_CMD_MAX = __RANSDN_AIRTIME_CMD_MAX - 1
};

enum ransdn_airtime_overhead {
	/* Estimate the PPDU only (what mac80211's helpers compute). */
	RANSDN_AIRTIME_OVERHEAD_NONE,
	/* Add DCF channel access: AIFS, mean backoff, SIFS and the ACK. */
	RANSDN_AIRTIME_OVERHEAD_DCF,
};

/* Where a vif's charged (measured) airtime comes from. */
enum ransdn_airtime_source {
	/* No frame completed with TX status: the estimate stands. */
	RANSDN_AIRTIME_SOURCE_ESTIMATE,
	/* Frames completed with TX status carrying the rates tried. */
	RANSDN_AIRTIME_SOURCE_TX_STATUS,
};

/* Where a station's rate for the estimate comes from. */
enum ransdn_airtime_rate_source {
	/* Nothing known: the lowest basic rate of the BSS. */
	RANSDN_AIRTIME_RATE_BASIC,
	/* mac80211's rate control table (sta->rates), first entry. */
	RANSDN_AIRTIME_RATE_TABLE,
	/* The TX bitrate cfg80211 reports (read by a work item). */
	RANSDN_AIRTIME_RATE_STATION_INFO,
};

enum ransdn_airtime_attr {
	RANSDN_AIRTIME_ATTR_UNSPEC,
	RANSDN_AIRTIME_ATTR_PAD,
	RANSDN_AIRTIME_ATTR_IFINDEX,		/* u32 */
	RANSDN_AIRTIME_ATTR_IFNAME,		/* string, output */
	RANSDN_AIRTIME_ATTR_PHY_NAME,		/* string, output: "phy0" */

	/* per phy */
	RANSDN_AIRTIME_ATTR_INTERVAL_US,	/* u32, 1000..1000000 */
	RANSDN_AIRTIME_ATTR_INFLIGHT_BUDGET_US,	/* u32, 100..100000 */
	RANSDN_AIRTIME_ATTR_OVERHEAD_MODEL,	/* u8, enum ransdn_airtime_overhead */
	RANSDN_AIRTIME_ATTR_INFLIGHT_US,	/* u32, output */
	RANSDN_AIRTIME_ATTR_INFLIGHT_PACKETS,	/* u32, output */
	RANSDN_AIRTIME_ATTR_NUM_VIFS,		/* u32, output */
	RANSDN_AIRTIME_ATTR_TX_STATUS_SEEN,	/* flag, output: the driver gave TX status */

	/* per vif: configuration */
	RANSDN_AIRTIME_ATTR_SHARE,		/* u32, 0..10000 (0.01 %) */
	RANSDN_AIRTIME_ATTR_CAP,		/* u32, 1..10000; 10000 = no cap */
	RANSDN_AIRTIME_ATTR_QUEUE_LIMIT,	/* u32 packets, 16..100000 */

	/* per vif: statistics (output) */
	RANSDN_AIRTIME_ATTR_ESTIMATED_US,	/* u64 */
	RANSDN_AIRTIME_ATTR_MEASURED_US,	/* u64, charged: TX status or estimate x factor */
	RANSDN_AIRTIME_ATTR_STATUS_US,		/* u64, the part measured from TX status */
	RANSDN_AIRTIME_ATTR_BORROWED_US,	/* u64 */
	RANSDN_AIRTIME_ATTR_CREDIT_US,		/* s64 */
	RANSDN_AIRTIME_ATTR_CONGESTION,		/* u32, milli */
	RANSDN_AIRTIME_ATTR_SOURCE,		/* u8, enum ransdn_airtime_source */
	RANSDN_AIRTIME_ATTR_BACKLOG_PACKETS,	/* u32 */
	RANSDN_AIRTIME_ATTR_BACKLOG_BYTES,	/* u32 */
	RANSDN_AIRTIME_ATTR_TX_PACKETS,		/* u64 */
	RANSDN_AIRTIME_ATTR_TX_BYTES,		/* u64 */
	RANSDN_AIRTIME_ATTR_DROPS,		/* u64 */
	RANSDN_AIRTIME_ATTR_THROTTLED_US,	/* u64 */
	RANSDN_AIRTIME_ATTR_BACKLOGGED_US,	/* u64 */
	RANSDN_AIRTIME_ATTR_BYPASS_PACKETS,	/* u64: EAPOL and the like */
	RANSDN_AIRTIME_ATTR_STATUS_PACKETS,	/* u64: completed with TX status */
	RANSDN_AIRTIME_ATTR_ESTIMATE_PACKETS,	/* u64: completed without (estimate stood) */
	RANSDN_AIRTIME_ATTR_UNTRACKED_PACKETS,	/* u64: completion not observable */

	/* per station (GET_STA) */
	RANSDN_AIRTIME_ATTR_STA_MAC,		/* 6 bytes */
	RANSDN_AIRTIME_ATTR_STA_RATE_KBPS,	/* u32: rate used for estimates */
	RANSDN_AIRTIME_ATTR_STA_RATE_SOURCE,	/* u8, enum ransdn_airtime_rate_source */
	RANSDN_AIRTIME_ATTR_STA_FRAME_US,	/* u32: estimate for 1500 octets */

	/* report */
	RANSDN_AIRTIME_ATTR_VIF,		/* nested, repeated: per-vif attrs */
	RANSDN_AIRTIME_ATTR_TIMESTAMP_NS,	/* u64, CLOCK_MONOTONIC */
	RANSDN_AIRTIME_ATTR_INTERVALS,		/* u64: intervals elapsed */
	RANSDN_AIRTIME_ATTR_AGED_PACKETS,	/* u64: frames out so long their
						 * airtime was released unseen */
	RANSDN_AIRTIME_ATTR_STALL_US,		/* u32, 1000..1000000: how long a
						 * backlogged vif that stops
						 * polling keeps its turn */

	__RANSDN_AIRTIME_ATTR_MAX,
	RANSDN_AIRTIME_ATTR_MAX = __RANSDN_AIRTIME_ATTR_MAX - 1
};

#define RANSDN_AIRTIME_SHARE_FULL	10000

#endif /* _UAPI_RANSDN_AIRTIME_H */
