"""The test bed: shared-medium simulator, emulated city, QEMU kernel bed, benchmarks."""
