"""econe-server: the EC2 Query API of OpenNebula 1.4 (spec cloud-apis §1-4, §8), and the econe-* tools."""

__version__ = "0.1.0"
