"""The deploy's files are written with one ``os.open`` each (issue 19): the deployment
file and the prolog script of a VM, no ``makedirs`` per file, no buffered ``open()``."""

from __future__ import annotations

from one_core.testing.file_calls import FileCalls


def test_deploy_writes_each_file_with_one_open(env, monkeypatch):
    vid = env.allocate()
    (env.var / str(vid)).mkdir(exist_ok=True)
    calls = FileCalls(monkeypatch)
    env.running(vid)
    deployment = env.var / str(vid) / "deployment.0"
    prolog = env.var / str(vid) / "transfer.0.prolog"
    assert calls.on(deployment) == ["os.open"]
    assert calls.on(prolog) == ["os.open"]
    assert deployment.read_text().startswith("<TEMPLATE>")
    assert [call for call, _ in calls.under(env.var / str(vid))].count("os.makedirs") == 0
