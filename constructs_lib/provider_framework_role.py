"""Roles for aws-cdk-lib's custom-resource Provider framework: own log group, no managed policy.

aws-cdk-lib 2.275 ``custom-resources/lib/provider-framework/provider.ts`` (``Provider``
``createFunction``) builds each framework Lambda with ``lambda.Function``, which gives a role it
creates ``AWSLambdaBasicExecutionRole`` (logs on every log group of the account, the audit log
included) and, in a VPC, ``AWSLambdaVPCAccessExecutionRole`` (any network interface). The
Provider takes ``frameworkOnEventRole`` and ``logGroup``: ``NodegroupOpsProvider`` passes them.
``aws-eks-v2/lib/kubectl-provider.ts`` (``KubectlProvider`` constructor) creates its Provider with
neither and offers no prop; ``Provider`` is ``@propertyInjectable``, so ``OwnFrameworkRoles``, a
property injector (aws-cdk-lib ``core/lib/prop-injectors.ts``, a public API), supplies them.
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import IPropertyInjector, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_lib.lambda_policies import (
    acknowledge_network_interfaces,
    network_interfaces_policy,
    own_log_group,
    own_logs_policy,
)

ROLE_PROPS = ("role", "frameworkOnEventRole", "frameworkCompleteAndTimeoutRole")
"""Provider props that name framework roles (``ProviderProps``, aws-cdk-lib 2.275)."""


class ProviderFrameworkRole(iam.Role):
    """Role of a Provider's framework ``onEvent`` Lambda: writes to ``self.log_group`` only and,
    when ``in_vpc``, manages network interfaces of this account and region. The Provider adds
    ``lambda:InvokeFunction`` and ``lambda:GetFunction`` on its own handler."""

    def __init__(self, scope: Construct, construct_id: str, *, in_vpc: bool) -> None:
        stack = Stack.of(scope)
        log_group = own_log_group(scope, f"{construct_id}Logs")
        policies = {"OwnLogs": own_logs_policy(log_group)}
        if in_vpc:
            policies["NetworkInterfaces"] = network_interfaces_policy(stack)
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Custom-resource provider framework (aws-cdk-lib), own log group only",
            inline_policies=policies,
        )
        self.log_group = log_group
        if in_vpc:
            acknowledge_network_interfaces(self)


@jsii.implements(IPropertyInjector)
class OwnFrameworkRoles:
    """Gives every ``custom_resources.Provider`` created under the scope it is added to
    (``PropertyInjectors.of(scope).add(OwnFrameworkRoles())``) a ``ProviderFrameworkRole`` named
    ``<provider id>FrameworkRole`` beside it and that role's log group, unless the Provider names a
    framework role itself. A Provider with ``isCompleteHandler`` (framework Lambdas on a second
    role) is refused: nothing here creates one."""

    @property
    def construct_unique_id(self) -> str:
        return str(cr.Provider.PROPERTY_INJECTION_ID)

    def inject(self, original_props: Any, *, scope: Construct, id: str) -> Any:
        props = dict(original_props)
        if any(props.get(name) is not None for name in ROLE_PROPS):
            return original_props
        if props.get("isCompleteHandler") is not None:
            raise ValueError(
                f"{scope.node.path}/{id}: OwnFrameworkRoles covers Providers without "
                "isCompleteHandler only; pass frameworkOnEventRole and "
                "frameworkCompleteAndTimeoutRole"
            )
        role = ProviderFrameworkRole(
            scope, f"{id}FrameworkRole", in_vpc=props.get("vpc") is not None
        )
        return {**props, "frameworkOnEventRole": role, "logGroup": role.log_group}
