"""HA groups for the tests: a throwaway PostgreSQL database and 2-3 oned sharing it.

Every node runs the dummy drivers; the VMM section shares one domain directory
(``DOMAINS``, the "hypervisors" every node drives) and one action log (``RECORD``:
``<time> <pid> <action> <vid> <host> <note>`` per driver action, see
``one_drivers_dummy.control``). ``ha_cluster(n)`` starts the first node, waits until
it leads, then the others (followers).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from one_core.testing.oned import OnedProcess

LEASE = 3


def sections(record: Path, domains: Path, delay: float) -> str:
    return (
        'IM_MAD = [ name = "im_dummy", driver = "dummy" ]\n'
        f'VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml", record = "{record}",'
        f' domains = "{domains}", delay = "{delay}" ]\n'
        'TM_MAD = [ name = "tm_dummy", driver = "dummy" ]\n'
        'SCHED  = [ name = "rank", mode = "external" ]\n'
    )


@dataclass
class Cluster:
    """A running HA group."""

    nodes: list[OnedProcess]
    names: list[str]
    record: Path
    db: dict[str, Any]

    @property
    def endpoints(self) -> str:
        return ",".join(o.url for o in self.nodes)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg2

        conn = psycopg2.connect(
            host=self.db["host"], port=self.db["port"], user=self.db["user"], dbname=self.db["name"]
        )
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description is not None else []
        finally:
            conn.close()

    def alive(self) -> list[OnedProcess]:
        return [o for o in self.nodes if o.proc is not None and o.proc.poll() is None]

    def leader(self, timeout: float = 30.0, exclude: OnedProcess | None = None) -> OnedProcess:
        """The node that leads (marked in ``ha_node`` and still running)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.query("SELECT node FROM ha_node WHERE role = 'leader'")
            for (name,) in rows:
                node = self.nodes[self.names.index(name)]
                if node is not exclude and node in self.alive():
                    return node
            assert time.monotonic() < deadline, (rows, [o.log()[-3000:] for o in self.nodes])
            time.sleep(0.05)

    def name_of(self, node: OnedProcess) -> str:
        return self.names[self.nodes.index(node)]

    def actions(self) -> list[tuple[float, int, str, int, str, str]]:
        """The shared action log: ``(time, pid, action, vid, host, note)``."""
        if not self.record.exists():
            return []
        out = []
        for line in self.record.read_text().splitlines():
            t, pid, action, vid, host, note = line.split(" ")
            out.append((float(t), int(pid), action, int(vid) if vid != "None" else -1, host, note))
        return out


@pytest.fixture
def ha_cluster(
    oned_factory: Callable[..., OnedProcess], pg_server: Any, tmp_path: Path
) -> Iterator[Callable[..., Cluster]]:
    """``ha_cluster(n, delay=0.2, lease=LEASE)``: ``n`` oned on one fresh PostgreSQL database."""
    made: list[Cluster] = []

    def make(n: int, delay: float = 0.2, lease: float = LEASE) -> Cluster:
        db = pg_server.create_database()
        record = tmp_path / "actions.log"
        domains = tmp_path / "domains"
        domains.mkdir(exist_ok=True)
        nodes, names = [], []
        for i in range(n):
            o = oned_factory(
                location=tmp_path / f"node{i}",
                sections=sections(record, domains, delay),
                db=db,
                start=False,
            )
            names.append(f"node{i}")
            o.conf_path.write_text(
                o.conf_path.read_text()
                + f'HA = [ node = "node{i}", endpoint = "{o.url}", lease = {lease} ]\n'
            )
            nodes.append(o)
        cluster = Cluster(nodes, names, record, db)
        made.append(cluster)
        nodes[0].start()
        assert cluster.leader() is nodes[0]
        for o in nodes[1:]:
            o.start()
        return cluster

    yield make
    for cluster in made:
        for o in cluster.nodes:
            if o.proc is not None:
                o.stop()
        pg_server.release_database(cluster.db["name"])
