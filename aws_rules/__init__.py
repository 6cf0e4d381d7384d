"""AWS's own rules and figures that more than one package of this project applies (the config
rules in ``cluster_config``, the constructs in ``constructs_lib``, the stacks, ``verify``), so that
none of them owns them: one module per AWS system (EBS, EKS, EC2 launch templates, the EKS AMI's
``nodeadm``), each rule with its source and the date it was read.

Plain Python: no aws_cdk, no pydantic, no import of this project's other packages
(``tests/test_layout.py``).
"""
