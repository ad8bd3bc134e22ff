"""The Kubernetes layer: what pacdeploy knows of the API, and the one way it talks to it.

resources.py   the registry of kinds (group, version, plural, scope) and every URL path
client.py      Cluster: one retrying REST call path, and the object verbs on top of it
errors.py      how an API or transport failure becomes an error a user can act on
kubeconfig.py  finding, checking, loading and editing kubeconfig files, as kubectl does
"""
