"""What the lesson's `kubectl get all / pv / pvc / ingress` showed, as one document.

schema.py   the `-o json|yaml` document's shape (schemaVersion 1)
collect.py  reading only what is the app's, and building the document
outline.py  the document as the tree `-o table` prints
"""
