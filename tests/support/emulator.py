"""Fixtures that run the emulator: in-process and as a real loopback `momo sandbox serve`."""
