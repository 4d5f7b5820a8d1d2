"""The Amazon EC2 virtualization driver (entry point ``ec2`` in ``one.vmm``)."""
