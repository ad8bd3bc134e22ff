"""A volume kept past its claim (reclaim policy Retain) by a restore or a move: the
annotation that remembers the policy it had, to put back when it is let go. Here, below
both, because moves.py (data/) and restore/ each keep volumes."""

RECLAIM_POLICY = "pacdeploy.io/reclaim-policy"  # annotation: the policy to put back
