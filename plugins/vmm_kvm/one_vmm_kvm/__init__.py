"""KVM virtualization driver (1.4's ``one_vmm_kvm``): libvirt domain XML, virsh over SSH.

* :mod:`one_vmm_kvm.domain` renders the deployment file (spec §5.2);
* :mod:`one_vmm_kvm.virsh` builds the ``virsh`` argument lists and reads their output;
* :mod:`one_vmm_kvm.settings` reads the driver settings (VM_MAD section, defaults file);
* :mod:`one_vmm_kvm.plugin` holds the ``one.vmm`` hook implementations.
"""
