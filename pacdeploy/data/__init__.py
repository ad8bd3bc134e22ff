"""The high scores' safety: revisions of what was deployed, backups of MongoDB's volumes,
and logical archives that cross MongoDB versions (restoring a backup is restore/'s).

    revisions.py      the revisions `up` records (ConfigMaps), and their history
    snapshots.py      the CSI snapshot API: classes, readiness, waiting
    backup_record.py  Backup: one backup as listed (its snapshots, state, why it was taken)
    backups.py        a backup: one VolumeSnapshot per mongo claim, taken, listed, deleted
    consistency.py    mongo's writes held (db.fsyncLock) while the snapshots are cut
    retention.py      which automatic backups pruning deletes
    safety.py         the backup a restore or a move takes of the data it replaces
    archives.py       mongodump/mongorestore --archive through pods/exec (export, import)
    moves.py          moving the scores to another stack's MongoDB: intent, kept volumes
    kept_volumes.py   the reclaim policy a volume kept by a restore or a move had
    shell.py          MongoDB's shell of a deployed stack, logged in
"""
