"""Which RBAC rules grant what a command needs (the rules-review fast path)."""

from pacdeploy.kube.permissions import Need, rules_allow

ROLE = [
    {
        "verbs": ["get", "list", "patch"],
        "apiGroups": ["storage.k8s.io"],
        "resources": ["storageclasses"],
    },
    {"verbs": ["patch"], "apiGroups": ["apps"], "resources": ["deployments/scale"]},
    {"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["only-this"]},
    {"verbs": ["*"], "apiGroups": ["networking.k8s.io"], "resources": ["*"]},
]


def test_exact_and_wildcard_rules_grant():
    assert rules_allow(ROLE, Need.on("patch", "StorageClass"))
    assert rules_allow(ROLE, Need.on("delete", "Ingress", "ns"))
    assert rules_allow(ROLE, Need.on("patch", "Deployment", "ns", subresource="scale"))


def test_other_verbs_groups_and_the_parent_of_a_subresource_do_not():
    assert not rules_allow(ROLE, Need.on("delete", "StorageClass"))
    assert not rules_allow(ROLE, Need.on("patch", "Deployment", "ns"))
    assert not rules_allow(ROLE, Need.on("list", "Pod", "ns"))


def test_rules_limited_to_names_are_not_taken_as_a_grant():
    assert not rules_allow(ROLE, Need.on("get", "Secret", "ns"))


def test_star_subresource_rules():
    rules = [{"verbs": ["patch"], "apiGroups": ["apps"], "resources": ["*/scale"]}]
    assert rules_allow(rules, Need.on("patch", "Deployment", "ns", subresource="scale"))
