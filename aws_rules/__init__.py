"""AWS's own rules that both the config rules (``cluster_config``) and the constructs
(``constructs_lib``) apply, so that neither owns them: one module per AWS system, each rule with
its source and the date it was read.

Plain Python: no aws_cdk, no pydantic, no import of this project's other packages
(``tests/test_layout.py``).
"""
