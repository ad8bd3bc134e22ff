"""What is deployed, decided without the cluster's help except to read it.

manifests.py    the objects, rendered from manifests/ and the options; names, validation
stacks.py       the stacks (modern, lesson): each image, its platforms, its shell
credentials.py  the generated Secret (MongoDB's users and passwords)
storage.py      which StorageClass is default: the patches `up` makes and `down` undoes
deployed.py     reading one of the app's objects that must exist
"""
