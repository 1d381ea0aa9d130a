"""In-guest scenarios of the kernel test bed.

Everything here runs inside the QEMU guest (as root, as the job that
``testbed.qemu`` starts): mac80211_hwsim radios, hostapd, stations in
their own network namespaces, traffic, and the airtime module.  A
scenario measures and writes its results as JSON into the job directory;
the pytest side (``tests/kernel``) makes the assertions.
"""
