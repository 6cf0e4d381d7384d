"""Pre-deploy verification: everything that can be checked without AWS, in one report.

``python -m verify`` (or ``bash scripts/verify.sh``) synthesizes the user's config and runs:
config validation, cdk-nag (AwsSolutions), cfn-lint, Kubernetes schema and security checks of
the attached manifests, and, given a baseline, replacement safety.
"""
