"""The custom-resource handler's logic, with fake AWS clients (no boto3, no network)."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest

from constructs_lib.nodegroup_ops_handler.index import (
    NODE_TEMPLATE_PREFIX,
    clamp_desired_size,
    foreign_keys,
    on_event,
    plan_tag_changes,
)

A = f"{NODE_TEMPLATE_PREFIX}label/a"
B = f"{NODE_TEMPLATE_PREFIX}label/b"
K = f"{NODE_TEMPLATE_PREFIX}taint/k"
OLD = f"{NODE_TEMPLATE_PREFIX}label/old"
NEW = f"{NODE_TEMPLATE_PREFIX}label/new"


@pytest.fixture(autouse=True)
def own_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack sets CLUSTER_NAME on the function (NodegroupOpsProvider); here it is "c"."""
    monkeypatch.setenv("CLUSTER_NAME", "c")


class NotFound(Exception):
    response: ClassVar[dict[str, Any]] = {"Error": {"Code": "ResourceNotFoundException"}}


class FakeEks:
    def __init__(self, nodegroup: dict[str, Any] | None) -> None:
        self.nodegroup = nodegroup

    def describe_nodegroup(self, clusterName: str, nodegroupName: str) -> dict[str, Any]:
        if self.nodegroup is None:
            raise NotFound()
        return {"nodegroup": self.nodegroup}


class FakeAutoscaling:
    def __init__(self, gone: tuple[str, ...] = ()) -> None:
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []
        self.gone = gone

    def create_or_update_tags(self, Tags: list[dict[str, Any]]) -> None:
        self.calls.append(("set", Tags))

    def delete_tags(self, Tags: list[dict[str, Any]]) -> None:
        if any(t["ResourceId"] in self.gone for t in Tags):
            raise AsgNotFound()  # the whole call fails, as the Auto Scaling API does
        self.calls.append(("delete", Tags))


class AsgNotFound(Exception):
    response: ClassVar[dict[str, Any]] = {
        "Error": {"Code": "ValidationError", "Message": "AutoScalingGroup name not found"}
    }


class Denied(Exception):
    response: ClassVar[dict[str, Any]] = {"Error": {"Code": "AccessDeniedException"}}


class FakeClients:
    def __init__(self, nodegroup: dict[str, Any] | None) -> None:
        self.eks = FakeEks(nodegroup)
        self.autoscaling = FakeAutoscaling()


def nodegroup(desired: int = 3, asgs: tuple[str, ...] = ("eks-gpu-a-1234",)) -> dict[str, Any]:
    return {
        "scalingConfig": {"minSize": 0, "maxSize": 10, "desiredSize": desired},
        "resources": {"autoScalingGroups": [{"name": n} for n in asgs]},
    }


def size_event(request: str, min_size: int, max_size: int, initial: int = 0) -> dict[str, Any]:
    return {
        "RequestType": request,
        "ResourceType": "Custom::NodegroupDesiredSize",
        "ResourceProperties": {
            "ClusterName": "c",
            "NodegroupName": "gpu-a",
            "MinSize": str(min_size),
            "MaxSize": str(max_size),
            "InitialSize": str(initial),
        },
    }


def tags_event(
    request: str, tags: dict[str, str], old: dict[str, str] | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "RequestType": request,
        "ResourceType": "Custom::AsgNodeTemplateTags",
        "ResourceProperties": {"ClusterName": "c", "NodegroupName": "gpu-a", "Tags": tags},
    }
    if old is not None:
        event["OldResourceProperties"] = {"Tags": old}
        event["PhysicalResourceId"] = "c/gpu-a/node-template-tags"
    return event


@pytest.mark.parametrize(
    ("current", "min_size", "max_size", "initial", "expected"),
    [
        (None, 0, 4, 0, 0),  # new group: the initial size
        (None, 2, 20, 2, 2),
        (7, 2, 20, 2, 7),  # autoscaler grew it: keep 7
        (7, 2, 5, 2, 5),  # max lowered below it: clamp down to the new max
        (1, 3, 20, 2, 3),  # min raised above it: grow to the new min
    ],
)
def test_clamp_keeps_the_running_size_within_bounds(
    current: int | None, min_size: int, max_size: int, initial: int, expected: int
) -> None:
    assert clamp_desired_size(current, min_size, max_size, initial) == expected


def test_guard_returns_the_initial_size_for_a_group_that_does_not_exist_yet() -> None:
    result = on_event(size_event("Create", 0, 4), clients=FakeClients(None))
    assert result == {"PhysicalResourceId": "c/gpu-a/desired-size", "Data": {"DesiredSize": 0}}


def test_guard_keeps_the_autoscalers_size_on_update() -> None:
    result = on_event(size_event("Update", 0, 8), clients=FakeClients(nodegroup(desired=6)))
    assert result["Data"] == {"DesiredSize": 6}


def test_guard_delete_touches_nothing() -> None:
    clients = FakeClients(nodegroup())
    event = size_event("Delete", 0, 4) | {"PhysicalResourceId": "c/gpu-a/desired-size"}
    assert on_event(event, clients=clients) == {"PhysicalResourceId": "c/gpu-a/desired-size"}


def test_plan_removes_dropped_keys_and_sets_the_rest() -> None:
    assert plan_tag_changes({"a": "1", "b": "2"}, {"b": "3", "c": "4"}) == (
        {"b": "3", "c": "4"},
        ["a"],
    )


def test_create_tags_every_asg_of_the_group_without_propagation() -> None:
    clients = FakeClients(nodegroup(asgs=("eks-1", "eks-2")))
    result = on_event(tags_event("Create", {K: "v"}), clients=clients)
    assert result["PhysicalResourceId"] == "c/gpu-a/node-template-tags"
    assert clients.autoscaling.calls == [
        (
            "set",
            [
                {
                    "ResourceId": asg,
                    "ResourceType": "auto-scaling-group",
                    "Key": K,
                    "Value": "v",
                    "PropagateAtLaunch": False,
                }
                for asg in ("eks-1", "eks-2")
            ],
        )
    ]


def test_update_deletes_stale_keys_before_setting_new_ones() -> None:
    clients = FakeClients(nodegroup())
    on_event(tags_event("Update", {NEW: "1"}, old={OLD: "x", NEW: "0"}), clients=clients)
    assert [(op, [t["Key"] for t in tags]) for op, tags in clients.autoscaling.calls] == [
        ("delete", [OLD]),
        ("set", [NEW]),
    ]


def test_delete_removes_all_tags() -> None:
    clients = FakeClients(nodegroup())
    on_event(tags_event("Delete", {A: "1", B: "2"}, old={}), clients=clients)
    assert [(op, [t["Key"] for t in tags]) for op, tags in clients.autoscaling.calls] == [
        ("delete", [A, B])
    ]


def test_delete_after_the_group_is_gone_succeeds() -> None:
    clients = FakeClients(None)
    event = tags_event("Delete", {A: "1"}, old={})
    assert on_event(event, clients=clients) == {"PhysicalResourceId": "c/gpu-a/node-template-tags"}
    assert clients.autoscaling.calls == []


def test_create_fails_loudly_when_the_group_is_missing() -> None:
    with pytest.raises(RuntimeError, match="node group 'gpu-a' of cluster 'c' does not exist"):
        on_event(tags_event("Create", {A: "1"}), clients=FakeClients(None))


def test_other_errors_are_not_swallowed() -> None:
    clients = FakeClients(None)
    clients.eks.describe_nodegroup = lambda **_: (_ for _ in ()).throw(Denied())  # type: ignore[method-assign]
    with pytest.raises(Denied):
        on_event(size_event("Update", 0, 4), clients=clients)


# Delete never fails: a failed Delete blocks stack deletion and rollback (DELETE_FAILED).


def deleted_keys(clients: FakeClients) -> list[tuple[str, list[str]]]:
    return [
        (tags[0]["ResourceId"], [t["Key"] for t in tags]) for _, tags in clients.autoscaling.calls
    ]


def test_delete_skips_an_asg_that_is_already_gone_and_cleans_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clients = FakeClients(nodegroup(asgs=("eks-gone", "eks-left")))
    clients.autoscaling.gone = ("eks-gone",)
    event = tags_event("Delete", {A: "1"}, old={})
    assert on_event(event, clients=clients) == {"PhysicalResourceId": "c/gpu-a/node-template-tags"}
    assert deleted_keys(clients) == [("eks-left", [A])]
    assert f"tags [{A!r}] not removed from ASG eks-gone (ValidationError" in caplog.text


def test_delete_of_a_group_without_an_asg_succeeds() -> None:
    clients = FakeClients(nodegroup(asgs=()))
    event = tags_event("Delete", {A: "1"}, old={})
    assert on_event(event, clients=clients) == {"PhysicalResourceId": "c/gpu-a/node-template-tags"}
    assert clients.autoscaling.calls == []


def test_delete_of_a_group_whose_description_has_no_resources_succeeds() -> None:
    clients = FakeClients({"scalingConfig": {"desiredSize": 0}})  # e.g. CREATE_FAILED
    event = tags_event("Delete", {A: "1"}, old={})
    assert on_event(event, clients=clients) == {"PhysicalResourceId": "c/gpu-a/node-template-tags"}
    assert clients.autoscaling.calls == []


def test_delete_after_a_failed_create_echoes_the_frameworks_marker() -> None:
    # The framework answers this Delete itself (cfn-response.ts safeHandler); if it ever reached
    # us, the ID must come back unchanged or the framework fails the Delete (framework.ts).
    marker = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
    event = tags_event("Delete", {A: "1"}) | {"PhysicalResourceId": marker}
    assert on_event(event, clients=FakeClients(None)) == {"PhysicalResourceId": marker}


def test_delete_with_missing_properties_succeeds_without_calls() -> None:
    clients = FakeClients(nodegroup())
    event = {
        "RequestType": "Delete",
        "ResourceType": "Custom::AsgNodeTemplateTags",
        "PhysicalResourceId": "c/gpu-a/node-template-tags",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:..."},
    }
    assert on_event(event, clients=clients) == {"PhysicalResourceId": "c/gpu-a/node-template-tags"}
    assert clients.autoscaling.calls == []


def test_delete_without_a_physical_id_lets_the_framework_keep_its_own() -> None:
    event = tags_event("Delete", {A: "1"})  # no PhysicalResourceId at all
    assert on_event(event, clients=FakeClients(None)) == {}


def test_delete_succeeds_when_the_node_group_cannot_be_described(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clients = FakeClients(nodegroup())
    clients.eks.describe_nodegroup = lambda **_: (_ for _ in ()).throw(Denied())  # type: ignore[method-assign]
    event = tags_event("Delete", {A: "1"}, old={})
    assert on_event(event, clients=clients) == {"PhysicalResourceId": "c/gpu-a/node-template-tags"}
    assert clients.autoscaling.calls == []
    assert "cannot describe node group gpu-a (AccessDeniedException" in caplog.text
    assert f"tags [{A!r}] may remain" in caplog.text


def test_delete_succeeds_when_removing_tags_is_denied(caplog: pytest.LogCaptureFixture) -> None:
    clients = FakeClients(nodegroup())
    clients.autoscaling.delete_tags = lambda **_: (_ for _ in ()).throw(Denied())  # type: ignore[method-assign]
    event = tags_event("Delete", {A: "1"}, old={})
    assert on_event(event, clients=clients) == {"PhysicalResourceId": "c/gpu-a/node-template-tags"}
    assert f"tags [{A!r}] not removed from ASG eks-gpu-a-1234 (AccessDeniedException" in caplog.text


def test_guard_delete_with_missing_properties_succeeds() -> None:
    event = {
        "RequestType": "Delete",
        "ResourceType": "Custom::NodegroupDesiredSize",
        "PhysicalResourceId": "c/gpu-a/desired-size",
        "ResourceProperties": {},
    }
    assert on_event(event, clients=FakeClients(None)) == {
        "PhysicalResourceId": "c/gpu-a/desired-size"
    }


def test_create_still_fails_when_tagging_is_denied() -> None:
    clients = FakeClients(nodegroup())
    clients.autoscaling.create_or_update_tags = lambda **_: (_ for _ in ()).throw(Denied())  # type: ignore[method-assign]
    with pytest.raises(Denied):
        on_event(tags_event("Create", {A: "1"}), clients=clients)


# The handler trusts neither the cluster name nor the tag keys in its properties.


def test_keys_outside_the_node_template_prefix_are_foreign() -> None:
    assert foreign_keys([A, "k8s.io/cluster-autoscaler/enabled", "eks:cluster-name"]) == [
        "eks:cluster-name",
        "k8s.io/cluster-autoscaler/enabled",
    ]
    assert foreign_keys(
        [f"x{NODE_TEMPLATE_PREFIX}label/a", "k8s.io/cluster-autoscaler/node-template"]
    ) == [
        "k8s.io/cluster-autoscaler/node-template",
        f"x{NODE_TEMPLATE_PREFIX}label/a",
    ]


@pytest.mark.parametrize(
    "key", ["k8s.io/cluster-autoscaler/enabled", "eks:cluster-name", "k8s.io/cluster-autoscaler/c"]
)
def test_update_refuses_to_delete_a_key_outside_the_prefix(key: str) -> None:
    clients = FakeClients(nodegroup())
    with pytest.raises(
        ValueError, match=re.escape("outside 'k8s.io/cluster-autoscaler/node-template/'")
    ):
        on_event(tags_event("Update", {A: "1"}, old={A: "1", key: "x"}), clients=clients)
    assert clients.autoscaling.calls == []


def test_create_refuses_to_write_a_key_outside_the_prefix() -> None:
    clients = FakeClients(nodegroup())
    with pytest.raises(ValueError, match=r"\['k8s.io/cluster-autoscaler/enabled'\]"):
        on_event(
            tags_event("Create", {"k8s.io/cluster-autoscaler/enabled": "false"}), clients=clients
        )
    assert clients.autoscaling.calls == []


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_another_clusters_name_is_refused(request_type: str) -> None:
    clients = FakeClients(nodegroup())
    event = tags_event(request_type, {A: "1"}, old={} if request_type == "Update" else None)
    event["ResourceProperties"]["ClusterName"] = "other"
    with pytest.raises(ValueError, match="cluster 'other' is not this handler's cluster 'c'"):
        on_event(event, clients=clients)
    with pytest.raises(ValueError, match="cluster 'other'"):
        on_event(
            size_event(request_type, 0, 4) | {"ResourceProperties": event["ResourceProperties"]},
            clients=clients,
        )
    assert clients.autoscaling.calls == []


def test_without_its_cluster_name_the_handler_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLUSTER_NAME")
    with pytest.raises(RuntimeError, match="CLUSTER_NAME is not set"):
        on_event(tags_event("Create", {A: "1"}), clients=FakeClients(nodegroup()))


def test_delete_removes_only_node_template_keys(caplog: pytest.LogCaptureFixture) -> None:
    clients = FakeClients(nodegroup())
    event = tags_event("Delete", {A: "1", "eks:cluster-name": "c"}, old={})
    assert on_event(event, clients=clients) == {"PhysicalResourceId": "c/gpu-a/node-template-tags"}
    assert deleted_keys(clients) == [("eks-gpu-a-1234", [A])]
    assert "keys ['eks:cluster-name'] are not node-template tags" in caplog.text


def test_delete_for_another_cluster_removes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    clients = FakeClients(nodegroup())
    event = tags_event("Delete", {A: "1"}, old={})
    event["ResourceProperties"]["ClusterName"] = "other"
    assert on_event(event, clients=clients) == {"PhysicalResourceId": "c/gpu-a/node-template-tags"}
    assert clients.autoscaling.calls == []
    assert "cluster 'other' is not this handler's cluster 'c'" in caplog.text
