"""Typed, validated configuration of one GPU spot cluster (see docs/configuration.md)."""

from cluster_config.loader import load_config, validate_config
from cluster_config.model import ClusterConfig, GpuPoolConfig, SystemNodeGroupConfig
from cluster_config.problems import ConfigError, Problem

__all__ = [
    "ClusterConfig",
    "ConfigError",
    "GpuPoolConfig",
    "Problem",
    "SystemNodeGroupConfig",
    "load_config",
    "validate_config",
]
