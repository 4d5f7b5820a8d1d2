from __future__ import annotations


def test_deploy_shutdown(env):
    vid = env.allocate()
    assert env.states(vid) == ("PENDING", "LCM_INIT")
    env.running(vid)
    env.engine.action("shutdown", vid)
    env.settle()
    assert env.states(vid) == ("DONE", "LCM_INIT"), env.log(vid)
    print(env.log(vid))
    print(env.commands(vid))
