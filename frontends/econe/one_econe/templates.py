"""Instance-type templates (spec cloud-apis §1.5, §3.7): shared with OCCI, see :mod:`one_cloudkit.erb`.

Variables econe passes::

    erb_vm_info[:img_path]   erb_vm_info[:img_id]   erb_vm_info[:instance_type]
    erb_vm_info[:template]   erb_user_name          instance_type[:NAME]
    params['Name']           image[:id]             @config[:server]
"""

from one_cloudkit.erb import TemplateError, render, render_file

__all__ = ["TemplateError", "render", "render_file"]
