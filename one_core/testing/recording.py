"""A driver implementing every hook of every role, recording each call.

``Recorder()`` is a plugin object for a :class:`pluggy.PluginManager` of any
role (``one_core.drivers.make_plugin_manager(role, Recorder(), name)``); the
``recording_driver`` fixture of the ``one_core.testing`` plugin gives a fresh one.
``calls`` lists ``(hook, kwargs-without-ctx)`` in order.
"""

from __future__ import annotations

from one_core.hookspecs import hookimpl


class Recorder:
    """Records ``(hook, kwargs-without-ctx)`` and returns a value derived from them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def _rec(self, hook: str, **kwargs):
        self.calls.append((hook, kwargs))
        return f"{hook}-result"

    @hookimpl
    def driver_start(self, ctx):
        self._rec("driver_start")

    @hookimpl
    def driver_stop(self, ctx):
        self._rec("driver_stop")

    @hookimpl
    def im_monitor(self, ctx, hid, host):
        self._rec("im_monitor", hid=hid, host=host)
        return {"TOTALCPU": 100, "HOSTNAME": host}

    @hookimpl
    def vmm_deployment_file(self, ctx, vm):
        return self._rec("vmm_deployment_file", vm=vm)

    @hookimpl
    def vmm_deploy(self, ctx, vid, host, deployment_file, deployment):
        return self._rec(
            "vmm_deploy", vid=vid, host=host, deployment_file=deployment_file, deployment=deployment
        )

    @hookimpl
    def vmm_shutdown(self, ctx, vid, host, deploy_id):
        self._rec("vmm_shutdown", vid=vid, host=host, deploy_id=deploy_id)

    @hookimpl
    def vmm_cancel(self, ctx, vid, host, deploy_id):
        self._rec("vmm_cancel", vid=vid, host=host, deploy_id=deploy_id)

    @hookimpl
    def vmm_save(self, ctx, vid, host, deploy_id, checkpoint):
        self._rec("vmm_save", vid=vid, host=host, deploy_id=deploy_id, checkpoint=checkpoint)

    @hookimpl
    def vmm_restore(self, ctx, vid, host, deploy_id, checkpoint):
        return self._rec(
            "vmm_restore", vid=vid, host=host, deploy_id=deploy_id, checkpoint=checkpoint
        )

    @hookimpl
    def vmm_migrate(self, ctx, vid, host, deploy_id, dest_host):
        self._rec("vmm_migrate", vid=vid, host=host, deploy_id=deploy_id, dest_host=dest_host)

    @hookimpl
    def vmm_poll(self, ctx, vid, host, deploy_id):
        self._rec("vmm_poll", vid=vid, host=host, deploy_id=deploy_id)
        return {"STATE": "a"}

    @hookimpl
    def tm_clone(self, ctx, vid, src, dst, size):
        self._rec("tm_clone", vid=vid, src=src, dst=dst, size=size)

    @hookimpl
    def tm_ln(self, ctx, vid, src, dst, size):
        self._rec("tm_ln", vid=vid, src=src, dst=dst, size=size)

    @hookimpl
    def tm_mkswap(self, ctx, vid, size, dst):
        self._rec("tm_mkswap", vid=vid, size=size, dst=dst)

    @hookimpl
    def tm_mkimage(self, ctx, vid, size, fstype, dst):
        self._rec("tm_mkimage", vid=vid, size=size, fstype=fstype, dst=dst)

    @hookimpl
    def tm_mv(self, ctx, vid, src, dst):
        self._rec("tm_mv", vid=vid, src=src, dst=dst)

    @hookimpl
    def tm_delete(self, ctx, vid, path):
        self._rec("tm_delete", vid=vid, path=path)

    @hookimpl
    def tm_context(self, ctx, vid, sources, dst, iso):
        self._rec("tm_context", vid=vid, sources=sources, dst=dst, iso=iso)

    @hookimpl
    def hm_execute(self, ctx, vid, hook_name, host, command, arguments):
        return self._rec(
            "hm_execute",
            vid=vid,
            hook_name=hook_name,
            host=host,
            command=command,
            arguments=arguments,
        )

    @hookimpl
    def sched_place(self, ctx, pending, hosts):
        self._rec("sched_place", pending=pending, hosts=hosts)
        return []
