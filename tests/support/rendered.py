"""The app rendered once (namespace games, with an ingress), and objects as a LIST returns
them, labelled ours or not: what the pure tests of `up` and `down` decide from."""

from pacdeploy.app.manifests import MANAGED_BY, Options, render
from pacdeploy.kube.resources import ref_of

OBJECTS = render(Options(namespace="games", ingress=True))


def live(objs, managed=True):
    labels = MANAGED_BY if managed else {}
    return {ref_of(o): {**o, "metadata": {**o["metadata"], "labels": labels}} for o in objs}
