"""The local directory of Amazon Connect routing profiles (instance -> name -> ARN)."""

from __future__ import annotations

from qconnect_local.storage.sql.session import SqlSession


class DirectoryQueries(SqlSession):
    def replace_routing_profiles(self, instance_id: str, profiles: dict[str, str]) -> None:
        self.execute("DELETE FROM connect_routing_profiles WHERE instance_id = ?", (instance_id,))
        self.execute("INSERT INTO connect_instances VALUES (?) ON CONFLICT DO NOTHING", (instance_id,))
        self.executemany(
            "INSERT INTO connect_routing_profiles (instance_id, name, arn) VALUES (?, ?, ?)",
            [(instance_id, name, arn) for name, arn in profiles.items()],
        )

    def routing_profiles(self, instance_id: str) -> dict[str, str] | None:
        """name -> ARN for a known instance, None for an unknown one."""
        if not self.execute("SELECT 1 FROM connect_instances WHERE instance_id = ?", (instance_id,)).fetchone():
            return None
        rows = self.execute(
            "SELECT name, arn FROM connect_routing_profiles WHERE instance_id = ? ORDER BY name", (instance_id,)
        ).fetchall()
        return dict(rows)

    def connect_instances(self) -> dict[str, list[str]]:
        """Every instance of the directory -> the ARNs of its routing profiles (unordered)."""
        out: dict[str, list[str]] = {}
        rows = self.execute(
            "SELECT i.instance_id, p.arn FROM connect_instances i"
            " LEFT JOIN connect_routing_profiles p ON p.instance_id = i.instance_id"
        ).fetchall()
        for instance_id, arn in rows:
            arns = out.setdefault(instance_id, [])
            if arn is not None:
                arns.append(arn)
        return out

    def delete_routing_profiles(self, instance_id: str) -> bool:
        cur = self.execute("DELETE FROM connect_instances WHERE instance_id = ?", (instance_id,))
        return bool(cur.rowcount > 0)
