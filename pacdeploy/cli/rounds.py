"""How many connections each command opens ahead (`Settings.open_ahead`): as many as its
first parallel round makes requests, so that none of them waits for a connection of its
own. They are known here, before the command's modules load, because that is when they
open; each number is tied to the round it stands for by tests/unit/cli/test_rounds.py.
"""

# `up`, `diff`, `template --validate`, `rollback` and `down`: plan_up's widest round, a LIST
# per kind of the app but the Namespace (8), beside the Secret, the claims and the CSI
# driver. Measured (no-op up, medians of 7, sandbox): at 100 ms 1.15 s with 6 ahead, 0.92 s
# with 11; at 0 ms within the noise (0.54-0.55 s).
UP = 8 + 3
# `scale`: the rules review and the read side by side, then the watch beside the write's.
# Measured at 100 ms (medians of 5): 0.89 s with 1, 0.79 s with 3.
SCALE = 3
# `status`: its first round reads the app's objects all at once (status/collect.py).
STATUS = 9
# `report`: the StatefulSet, then the Secret's values beside the objects it gathers.
REPORT = 6
