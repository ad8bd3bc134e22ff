"""The app's lifecycle: plan (reads and checks only), apply in waves, wait; and the commands
built on that.

    wanted.py    what the user asked to deploy (Wanted), known before any connection
    change.py    what a command did to one object (Change), as every command reports it
    plan.py      read the cluster, check everything, decide each change (UpPlan, frozen)
    needs.py     the permissions a change needs, checked before its first write
    preflight.py which stack, and will its images run on the nodes the pods could land on
    fields.py    comparing objects field by field: drift, dry-run changes, the digest
    apply.py     server-side apply in waves, then waiting for the workloads
    up.py        `up` as a release: backup first, revision recorded, a failed wait raised
    resize.py    `up --storage-size`: claims grown, the StatefulSet replaced, pods kept
    move.py      `up --stack` onto another stack's MongoDB: the scores dumped and restored
    rollback.py  `rollback [--with-data]`, and `up --rollback-on-failure`'s rollback step
    diff.py      `diff`: what `up` would change, by server-side dry run
    template.py  `template`: the manifests `up` would apply, for another tool to apply
    scale.py     `scale`
    down.py      `down [--purge]`
"""
