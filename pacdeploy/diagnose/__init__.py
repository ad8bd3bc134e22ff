"""Looking into a running app: what `kubectl cnpg logs` and `kubectl cnpg report` give.

logs.py    every container's log of the app or one workload, each line named by its pod
           and container, followed across pods that come and go, Secret values redacted
report.py  the support bundle: a tar.gz of what a maintainer asks for, no secret in it
experiment.py  `pacdeploy test`: the lesson's experiment (a score written, mongo-0
           deleted, the score read back), as `helm test` runs a chart's own check
"""
