"""CDK constructs of this project, one per module."""
