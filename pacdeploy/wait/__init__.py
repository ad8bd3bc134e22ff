"""Waiting, and saying why it is not over yet.

polling.py    the one poll loop: rounds to a deadline, fast first, then backing off
changes.py    watches feeding one waiter, in rounds: one per change and per tick
readiness.py  pure rules: is a workload ready, why is a pod not (kubectl's and Helm's)
rollout.py    waiting for workloads: watches, diagnosis, the live board
causes.py     root causes status does not name: wrong CPU architecture, no AVX, a lost tag
logs.py       a crashed container's last log line, redacted
gone.py       waiting for an object or pods to be deleted
"""
