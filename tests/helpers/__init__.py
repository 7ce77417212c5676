"""What the tests share: the app and clerks to drive it, the demo's data, servers in processes
of their own, stream readers, form builders, and the figures printed after a run."""
