"""Custom-resource handler for managed node groups (runs in Lambda; boto3 comes with the runtime).

Two resource types, one handler (one Lambda per stack):

``Custom::NodegroupDesiredSize``
    Returns the DesiredSize to put in the node group's ScalingConfig: the group's *current*
    desired size (what the cluster autoscaler set), clamped to the new min/max; the configured
    initial size only when the group does not exist yet. A redeploy therefore never resizes a
    group that the autoscaler grew or shrank.

``Custom::AsgNodeTemplateTags``
    Puts cluster-autoscaler ``node-template`` tags on the Auto Scaling group(s) behind a managed
    node group (EKS does not propagate node group tags to its ASG), removes keys dropped on
    update, and removes all of them on delete.

Invoked through the CDK Provider framework: return a dict, raise on failure.

The handler does not trust its properties (anyone who can update the stack, or invoke the
function, writes them): it acts only for the cluster named in its own environment
(``CLUSTER_NAME``, set by the stack) and only on tag keys under ``NODE_TEMPLATE_PREFIX``, old keys
included, so a crafted Update cannot make it delete ``k8s.io/cluster-autoscaler/enabled`` or
``eks:cluster-name``. The IAM policy's ``aws:TagKeys`` condition says the same a second time.

A Delete never fails (``_delete``): a failed Delete leaves the stack in DELETE_FAILED or
UPDATE_ROLLBACK_FAILED, and only a manual ``--retain-resources`` gets it out, which is worse than
anything a Delete could leave behind (at most node-template tags on an ASG, logged with the keys).
"""

from __future__ import annotations

import logging
import os
from typing import Any

NOT_FOUND = "ResourceNotFoundException"
CLUSTER_NAME_VARIABLE = "CLUSTER_NAME"
NODE_TEMPLATE_PREFIX = "k8s.io/cluster-autoscaler/node-template/"
LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)


def on_event(event: dict[str, Any], _context: Any = None, clients: Any = None) -> dict[str, Any]:
    if event.get("RequestType") == "Delete":
        return _delete(event, clients)
    _check_cluster(event["ResourceProperties"].get("ClusterName"))
    clients = clients or _Boto3Clients()
    kind = event["ResourceType"]
    if kind == "Custom::NodegroupDesiredSize":
        return _desired_size(event, clients)
    if kind == "Custom::AsgNodeTemplateTags":
        return _node_template_tags(event, clients)
    raise ValueError(f"unsupported resource type {kind!r}")


def clamp_desired_size(current: int | None, min_size: int, max_size: int, initial: int) -> int:
    """Keep what is running: current if known, else initial; within min..max."""
    wanted = initial if current is None else current
    return max(min_size, min(max_size, wanted))


def foreign_keys(keys: Any) -> list[str]:
    """The keys this handler must never write or delete: any outside ``NODE_TEMPLATE_PREFIX``."""
    return sorted(str(k) for k in keys if not str(k).startswith(NODE_TEMPLATE_PREFIX))


def _own_cluster() -> str:
    cluster = os.environ.get(CLUSTER_NAME_VARIABLE)
    if not cluster:
        raise RuntimeError(f"{CLUSTER_NAME_VARIABLE} is not set in the handler's environment")
    return cluster


def _check_cluster(cluster: Any) -> None:
    own = _own_cluster()
    if cluster != own:
        raise ValueError(f"cluster {cluster!r} is not this handler's cluster {own!r}; refused")


def plan_tag_changes(old: dict[str, str], new: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(tags to create or update, keys to delete) to go from ``old`` to ``new``."""
    return dict(new), sorted(set(old) - set(new))


def _desired_size(event: dict[str, Any], clients: Any) -> dict[str, Any]:
    props = event["ResourceProperties"]
    cluster, nodegroup = props["ClusterName"], props["NodegroupName"]
    physical_id = f"{cluster}/{nodegroup}/desired-size"
    described = _describe_nodegroup(clients, cluster, nodegroup)
    current = described["scalingConfig"]["desiredSize"] if described else None
    size = clamp_desired_size(
        current, int(props["MinSize"]), int(props["MaxSize"]), int(props["InitialSize"])
    )
    return {"PhysicalResourceId": physical_id, "Data": {"DesiredSize": size}}


def _node_template_tags(event: dict[str, Any], clients: Any) -> dict[str, Any]:
    props = event["ResourceProperties"]
    cluster, nodegroup = props["ClusterName"], props["NodegroupName"]
    physical_id = f"{cluster}/{nodegroup}/node-template-tags"
    described = _describe_nodegroup(clients, cluster, nodegroup)
    if described is None:
        raise RuntimeError(f"node group {nodegroup!r} of cluster {cluster!r} does not exist")
    groups = _asg_names(described)
    if not groups:
        raise RuntimeError(f"node group {nodegroup!r} has no Auto Scaling group yet")
    new = dict(props.get("Tags", {}))
    old = (
        dict(event.get("OldResourceProperties", {}).get("Tags", {}))
        if event["RequestType"] == "Update"
        else {}
    )
    if foreign := foreign_keys([*new, *old]):
        raise ValueError(
            f"tag keys {foreign} are outside {NODE_TEMPLATE_PREFIX!r}; this handler writes and "
            "deletes only the autoscaler's node-template tags; refused"
        )
    to_set, to_delete = plan_tag_changes(old, new)
    _delete_tags(clients, groups, to_delete)
    if to_set:
        clients.autoscaling.create_or_update_tags(Tags=_tag_list(groups, to_set))
    return {"PhysicalResourceId": physical_id, "Data": {"AutoScalingGroups": ",".join(groups)}}


def _delete(event: dict[str, Any], clients: Any) -> dict[str, Any]:
    """Succeeds whatever happens, and answers with the request's own physical ID (the Provider
    framework fails a Delete whose ID changes: aws-cdk custom-resources ``framework.ts``
    ``createResponseEvent``; after a failed Create it never calls us: ``cfn-response.ts``
    ``safeHandler`` answers the Delete of ``CREATE_FAILED_PHYSICAL_ID_MARKER`` itself)."""
    physical_id = event.get("PhysicalResourceId")
    answer = {} if physical_id is None else {"PhysicalResourceId": physical_id}
    if event.get("ResourceType") != "Custom::AsgNodeTemplateTags":
        return answer  # the desired-size guard owns nothing in AWS
    props = event.get("ResourceProperties") or {}
    cluster, nodegroup = props.get("ClusterName"), props.get("NodegroupName")
    tags = props.get("Tags") or {}
    if foreign := foreign_keys(tags):
        LOG.warning(
            "delete %s: keys %s are not node-template tags; left alone", physical_id, foreign
        )
    keys = sorted(k for k in tags if k not in foreign)
    if not (cluster and nodegroup and keys):
        LOG.warning("delete %s: nothing to remove (properties: %s)", physical_id, props)
        return answer
    if cluster != os.environ.get(CLUSTER_NAME_VARIABLE):
        LOG.warning(
            "delete %s: cluster %r is not this handler's cluster %r; nothing removed",
            physical_id,
            cluster,
            os.environ.get(CLUSTER_NAME_VARIABLE),
        )
        return answer
    try:
        clients = clients or _Boto3Clients()
        described = _describe_nodegroup(clients, cluster, nodegroup)
    except Exception as error:
        LOG.warning(
            "delete %s: cannot describe node group %s (%s); tags %s may remain on its ASGs",
            physical_id,
            nodegroup,
            _code(error),
            keys,
        )
        return answer
    if described is None:
        LOG.info("delete %s: node group %s is gone, and its ASGs with it", physical_id, nodegroup)
        return answer
    for group in _asg_names(described):  # one call per ASG: a vanished one spoils no other
        try:
            _delete_tags(clients, [group], keys)
        except Exception as error:
            LOG.warning(
                "delete %s: tags %s not removed from ASG %s (%s)",
                physical_id,
                keys,
                group,
                _code(error),
            )
    return answer


def _asg_names(described: dict[str, Any]) -> list[str]:
    return [g["name"] for g in (described.get("resources") or {}).get("autoScalingGroups") or []]


def _code(error: Exception) -> str:
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return f"{code or type(error).__name__}: {error}"


def _delete_tags(clients: Any, groups: list[str], keys: list[str]) -> None:
    if keys:
        clients.autoscaling.delete_tags(Tags=_tag_list(groups, dict.fromkeys(keys, "")))


def _tag_list(groups: list[str], tags: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "ResourceId": group,
            "ResourceType": "auto-scaling-group",
            "Key": key,
            "Value": value,
            "PropagateAtLaunch": False,
        }
        for group in groups
        for key, value in sorted(tags.items())
    ]


def _describe_nodegroup(clients: Any, cluster: str, nodegroup: str) -> dict[str, Any] | None:
    try:
        response = clients.eks.describe_nodegroup(clusterName=cluster, nodegroupName=nodegroup)
        nodegroup_info: dict[str, Any] = response["nodegroup"]
        return nodegroup_info
    except Exception as error:  # botocore ClientError; not imported so tests need no boto3
        code = getattr(error, "response", {}).get("Error", {}).get("Code")
        if code == NOT_FOUND:
            return None
        raise


class _Boto3Clients:
    def __init__(self) -> None:
        import boto3  # the Lambda runtime has it (in .venv only as moto's dependency, for tests)

        self.eks = boto3.client("eks")
        self.autoscaling = boto3.client("autoscaling")
