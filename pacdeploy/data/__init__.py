"""The high scores' safety: revisions of what was deployed, backups of MongoDB's volumes,
restoring them, and logical archives that cross MongoDB versions.

    revisions.py      the revisions `up` records (ConfigMaps), and their history
    snapshots.py      the CSI snapshot API: classes, readiness, waiting
    backups.py        a backup: one VolumeSnapshot per mongo claim, taken, listed, deleted
    consistency.py    mongo's writes held (db.fsyncLock) while the snapshots are cut
    retention.py      which automatic backups pruning deletes
    restore.py        a restore's intent and its pure decisions (which claim, which volume)
    restore_plan.py   reading what a restore needs, and planning it (resuming one)
    restore_steps.py  carrying a restore plan out, each step safe to run again
    archives.py       mongodump/mongorestore --archive through pods/exec (export, import)
    moves.py          moving the scores to another stack's MongoDB: intent, kept volumes
"""
