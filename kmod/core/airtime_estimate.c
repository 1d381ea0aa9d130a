// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Airtime of one frame on the air: PPDU durations from IEEE 802.11-2020
 * clauses 15 (DSSS), 16 (HR/DSSS), 17/18 (OFDM, ERP) and 19 (HT), and the
 * DCF channel-access overhead around them.  Integer nanoseconds.
 */
#include "airtime.h"

#define NS_PER_US		1000ULL

#define DSSS_PREAMBLE_NS	(192 * NS_PER_US)	/* long PLCP preamble + header */
#define OFDM_PREAMBLE_NS	(20 * NS_PER_US)	/* L-STF + L-LTF + L-SIG */
#define HT_PREAMBLE_NS		(36 * NS_PER_US)	/* + HT-SIG, HT-STF, one HT-LTF */
#define OFDM_SYMBOL_NS		(4 * NS_PER_US)
#define ERP_SIGNAL_EXT_NS	(6 * NS_PER_US)		/* 2.4 GHz OFDM only */
#define OFDM_SERVICE_TAIL_BITS	(16 + 6)
#define ACK_LEN			14			/* ACK frame incl. FCS */

#define OFDM_SLOT_NS		(9 * NS_PER_US)
#define DSSS_SLOT_NS		(20 * NS_PER_US)
#define SIFS_5GHZ_NS		(16 * NS_PER_US)
#define SIFS_2GHZ_NS		(10 * NS_PER_US)
#define AIFSN_BE		3
#define CWMIN_OFDM		15
#define CWMIN_DSSS		31

static bool rate_is_dsss(u32 kbps)
{
	return kbps == 1000 || kbps == 2000 || kbps == 5500 || kbps == 11000;
}

static bool rate_is_ofdm(u32 kbps)
{
	switch (kbps) {
	case 6000: case 9000: case 12000: case 18000:
	case 24000: case 36000: case 48000: case 54000:
		return true;
	}
	return false;
}

static u32 clamp_u32(u64 ns)
{
	return ns > U32_MAX ? U32_MAX : (u32)ns;
}

static u64 div_round_up(u64 a, u64 b)
{
	return airtime_div64(a + b - 1, b);
}

u32 airtime_ppdu_ns(u32 len, u32 rate_kbps, u32 band)
{
	u64 bits, symbols, ns;

	if (!rate_kbps)
		return 0;
	bits = (u64)len * 8;
	if (rate_is_dsss(rate_kbps))
		return clamp_u32(DSSS_PREAMBLE_NS +
				 div_round_up(bits * 1000000ULL, rate_kbps));

	/* A 4 us symbol carries rate x 4 us bits; service and tail bits too. */
	symbols = div_round_up((bits + OFDM_SERVICE_TAIL_BITS) * 1000ULL,
			       (u64)rate_kbps * 4);
	ns = (rate_is_ofdm(rate_kbps) ? OFDM_PREAMBLE_NS : HT_PREAMBLE_NS) +
	     symbols * OFDM_SYMBOL_NS;
	if (band == AIRTIME_BAND_2GHZ)
		ns += ERP_SIGNAL_EXT_NS;
	return clamp_u32(ns);
}

/* The control response rate: the highest mandatory rate not above it. */
static u32 ack_rate_kbps(u32 rate_kbps)
{
	if (rate_is_dsss(rate_kbps))
		return rate_kbps >= 2000 ? 2000 : 1000;
	if (rate_kbps >= 24000)
		return 24000;
	if (rate_kbps >= 12000)
		return 12000;
	return 6000;
}

u32 airtime_overhead_ns(u32 overhead, u32 band, u32 rate_kbps)
{
	u64 slot, sifs, cwmin;

	if (overhead != AIRTIME_OVERHEAD_DCF)
		return 0;
	if (rate_is_dsss(rate_kbps)) {
		slot = DSSS_SLOT_NS;
		sifs = SIFS_2GHZ_NS;
		cwmin = CWMIN_DSSS;
	} else {
		slot = OFDM_SLOT_NS;
		sifs = band == AIRTIME_BAND_2GHZ ? SIFS_2GHZ_NS : SIFS_5GHZ_NS;
		cwmin = CWMIN_OFDM;
	}
	/* AIFS[BE] + mean backoff + SIFS + ACK */
	return clamp_u32(sifs + AIFSN_BE * slot + ((cwmin * slot) >> 1) + sifs +
			 airtime_ppdu_ns(ACK_LEN, ack_rate_kbps(rate_kbps), band));
}

u32 airtime_estimate_ns(const struct airtime_sched *s, u32 len, u32 rate_kbps)
{
	u32 ppdu = airtime_ppdu_ns(len, rate_kbps, s->p.band);

	if (!ppdu)
		return 0;
	return clamp_u32((u64)ppdu +
			 airtime_overhead_ns(s->p.overhead, s->p.band, rate_kbps));
}
