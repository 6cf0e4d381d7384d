"""The ``autoscaler`` check: what the cluster autoscaler will decide about the synthesized groups.

From the templates (``AWS::EKS::Nodegroup``, ``Custom::AsgNodeTemplateTags``, ``AWS::EKS::Addon``,
the subnets' zones) and the attached manifests (the autoscaler's flags, the DaemonSets), it builds
each group's template node as the autoscaler does (``verify/autoscaler_model.py``): the AWS
provider's node, the kube-proxy mirror pod and a pod of every DaemonSet that would run on it, the
EKS add-ons' DaemonSets included (``verify/data/eks-addon-daemonsets.json``). Then it asks: can a
GPU pod scale each GPU group up from zero, and a pod that selects a pool only that pool's groups;
can a plain pod only reach the system group; does the device plugin land on every GPU node; does
the autoscaler itself run only on the system group; which groups are balanced, all at zero and
with one live node (groups of one pool and capacity type, and no others); and what is the largest
pod each pool takes, from zero and on the node that then joins.

Its modules, in the order the check uses them:

- ``groups``: the node groups read from the templates, and which ones the autoscaler discovers;
- ``workloads``: the autoscaler's Deployment, the EKS add-ons' DaemonSets, the device plugins;
- ``nodes``: each group's template node, a live node, and the template built from a live node;
- ``probes``: the pods the check asks about;
- ``scene``: all of the above read once (``Scene``), with which pod fits which template;
- ``rules``: one function per rule over the scene (``RULES``);
- ``largest_pod``: the largest GPU pod each group scales up for and then runs;
- ``buffers``: warm-capacity buffer pods and the groups they scale up;
- ``balancing``: which groups a scale-up is balanced across;
- ``table``: the report's table;
- ``check``: ``simulate`` and ``check_autoscaler``, the entry.
"""
