"""Output of iw as captured in the kernel test bed (Debian 12: iw 5.19,
mac80211_hwsim), for the linux backend's unit tests."""

STATION_DUMP = """Station 02:00:00:00:01:00 (on wlan0)
\tinactive time:\t56 ms
\trx bytes:\t2667
\trx packets:\t27
\ttx bytes:\t1953668
\ttx packets:\t1316
\ttx retries:\t0
\ttx failed:\t0
\tsignal:  \t-30 dBm
\ttx bitrate:\t6.0 MBit/s
\trx bitrate:\t54.0 MBit/s
\tconnected time:\t9 seconds
Station 02:00:00:00:02:00 (on wlan0)
\trx bytes:\t10
\trx packets:\t1
\ttx bytes:\t20
\ttx packets:\t2
\ttx bitrate:\t24.0 MBit/s
"""
IW_DEV = """phy#1
\tInterface wlan1
\t\tifindex 3
\t\twdev 0x100000001
\t\taddr 02:00:00:00:01:00
\t\ttype managed
\t\ttxpower 0.00 dBm
phy#0
\tInterface sl-c
\t\tifindex 8
\t\twdev 0x5
\t\taddr 02:00:00:00:00:02
\t\tssid tenant-c2
\t\ttype AP
\t\tchannel 1 (2412 MHz), width: 20 MHz (no HT), center1: 2412 MHz
\t\ttxpower 20.00 dBm
"""
PHY_INFO = """Wiphy phy0
\tBand 1:
\t\tFrequencies:
\t\t\t* 2412 MHz [1] (20.0 dBm)
\t\t\t* 2467 MHz [12] (disabled)
\t\t\t* 2484 MHz [14] (disabled)
\tBand 2:
\t\tFrequencies:
\t\t\t* 5180 MHz [36] (20.0 dBm)
\tvalid interface combinations:
\t\t * #{ IBSS } <= 1, #{ managed, AP, mesh point, P2P-client, P2P-GO } <= 2048, #{ P2P-device } <= 1,
\t\t   total <= 2050, #channels <= 1
"""
SURVEY = """Survey data from wlan0
\tfrequency:\t\t\t2412 MHz [in use]
\tnoise:\t\t\t\t-92 dBm
\tchannel active time:\t\t1000 ms
\tchannel busy time:\t\t300 ms
\tchannel receive time:\t\t100 ms
\tchannel transmit time:\t\t150 ms
Survey data from wlan0
\tfrequency:\t\t\t2417 MHz
"""
