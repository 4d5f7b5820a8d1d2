"""libvirt remote-protocol frontend: ``one-libvirtd`` serves virsh / libvirt-python clients."""
