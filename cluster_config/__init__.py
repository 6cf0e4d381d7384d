"""Typed, validated configuration of one GPU spot cluster (see docs/configuration.md)."""

from cluster_config.loader import ConfigError, load_config
from cluster_config.model import ClusterConfig, GpuPoolConfig, SystemNodeGroupConfig

__all__ = [
    "ClusterConfig",
    "ConfigError",
    "GpuPoolConfig",
    "SystemNodeGroupConfig",
    "load_config",
]
