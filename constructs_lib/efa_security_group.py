"""The security group an EFA pool's interfaces share: all traffic to and from itself only."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct


class EfaSecurityGroup(Construct):
    """A security group whose members may send each other anything, and nothing else.

    EFA's OS bypass needs "a security group that allows all inbound and outbound traffic to and
    from the security group itself" (EC2 user guide, "Get started with EFA", step 1: "Prepare an
    EFA-enabled security group"; the EKS user guide's EFA launch template says the same).
    terraform-aws-eks 21.19.0 adds the same two rules (``all_self_efa`` ingress and egress,
    protocol -1, ``self``). Both rules are separate resources (a group cannot name itself in
    its own properties). Beside it the nodes keep the cluster security group, which carries
    everything else (EKS user guide, "View Amazon EKS security group requirements").
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, description: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self, "Resource", vpc=vpc, description=description, allow_all_outbound=False
        )
        self.security_group.add_ingress_rule(
            self.security_group, ec2.Port.all_traffic(), "EFA: all traffic from the pool's nodes"
        )
        self.security_group.add_egress_rule(
            self.security_group, ec2.Port.all_traffic(), "EFA: all traffic to the pool's nodes"
        )
        self.security_group_id: str = self.security_group.security_group_id
