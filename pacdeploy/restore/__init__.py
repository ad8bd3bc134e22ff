"""Putting MongoDB's volumes back to a backup, or back to what a restore replaced: each
step safe to run again, so a restore killed anywhere is finished (or undone) by running it
again.

    intent.py what a restore under way recorded (Intent), and how to undo the last one
    rules.py  a restore's pure decisions (which claim, which volume)
    plan.py   reading what a restore needs, and planning it (resuming one)
    run.py    carrying a restore plan out, each step safe to run again
"""
