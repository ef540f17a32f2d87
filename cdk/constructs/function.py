"""One of our Lambda functions: its log group, its own execution role and the function itself.

Every function of the app (both stream consumers, the usage merge) is built here, so they share
one runtime, one logging setup and one way of granting logs. Created in the caller's construct
under the ids ``Logs``, ``Role`` and ``Function``, which keeps each resource's logical id the same
as when each caller created them itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk.constructs.bundling import ARCHITECTURE, RUNTIME, LambdaPackage, lambda_code
from cdk.constructs.nag import acknowledge

# The retention periods CloudWatch Logs accepts, in the order of logs.RetentionDays' members.
_RETENTION_DAYS: tuple[int, ...] = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545),
    *(731, 1096, 1827, 2192, 2557, 2922, 3288, 3653),
)


def log_retention(days: int) -> logs.RetentionDays:
    """The shortest retention period CloudWatch Logs accepts that keeps logs ``days`` days."""
    members = [member for member in logs.RetentionDays if member != logs.RetentionDays.INFINITE]
    for allowed, member in zip(_RETENTION_DAYS, members, strict=True):
        if allowed >= days:
            return member
    return members[-1]


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """What distinguishes one of our functions from another."""

    name: str
    description: str
    handler: str
    package: LambdaPackage
    memory_mb: int
    timeout_seconds: int
    log_retention_days: int
    environment: dict[str, str] = field(default_factory=dict)
    role_name: str | None = None
    reserved_concurrency: int | None = None


@dataclass(frozen=True, slots=True)
class LoggedFunction:
    log_group: logs.LogGroup
    role: iam.Role
    function: lambda_.Function


def logged_function(
    scope: Construct, spec: FunctionSpec, *, statements: Sequence[iam.PolicyStatement] = ()
) -> LoggedFunction:
    """The log group, role and function of ``spec``, in ``scope``; ``statements`` join the role's
    policy after its log permissions (and before the X-Ray ones the function adds)."""
    log_group = logs.LogGroup(
        scope,
        "Logs",
        log_group_name=f"/aws/lambda/{spec.name}",
        retention=log_retention(spec.log_retention_days),
        # Deleted with the stack so that a later deploy can create it again under the same
        # name; the retention period bounds what is kept while the stack lives.
        removal_policy=RemovalPolicy.DESTROY,
    )
    # An explicit role without AWS-managed policies: CDK would otherwise attach
    # AWSLambdaBasicExecutionRole (logs:* on every log group).
    role = iam.Role(
        scope,
        "Role",
        role_name=spec.role_name,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"Execution role of {spec.name}",
    )
    log_group.grant_write(role)
    for statement in statements:
        role.add_to_principal_policy(statement)
    function = lambda_.Function(
        scope,
        "Function",
        function_name=spec.name,
        description=spec.description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=spec.handler,
        code=lambda_code(spec.package),
        role=role,
        memory_size=spec.memory_mb,
        timeout=Duration.seconds(spec.timeout_seconds),
        environment=spec.environment,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        # EMF documents carry no "level" and count as INFO: any stricter application level
        # would silently drop every metric.
        application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
        system_log_level_v2=lambda_.SystemLogLevel.WARN,
        tracing=lambda_.Tracing.ACTIVE,
        reserved_concurrent_executions=spec.reserved_concurrency,
    )
    return LoggedFunction(log_group, role, function)


def acknowledge_runtime(function: lambda_.Function) -> None:
    """Our functions share one runtime, not the newest: the reason, for both rules that flag it."""
    for rule in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion"):
        acknowledge(
            function,
            rule,
            f"{RUNTIME.name} is the newest runtime every dependency ships arm64 wheels for: "
            "datasketches 5.2.0 (the metrics function's HyperLogLog) has no cp314 wheels. "
            "All our functions share one runtime; see RUNTIME in cdk/constructs/bundling.py.",
        )
