"""EKS's rules on managed node groups that a construct checks as well as the config."""

from __future__ import annotations

import re

# EKS API Reference, CreateNodegroup, nodegroupName (read November 2026): length 1-63,
# "^[0-9A-Za-z][A-Za-z0-9\-_]*".
NODEGROUP_NAME = re.compile(r"[0-9A-Za-z][A-Za-z0-9\-_]{0,62}")
