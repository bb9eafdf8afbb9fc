"""The day at the office: the order of calls, the counters' calls, the waiting room, the waits."""
