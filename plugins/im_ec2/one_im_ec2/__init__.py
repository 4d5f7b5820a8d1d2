"""The Amazon EC2 information driver (entry point ``ec2`` in ``one.im``)."""
