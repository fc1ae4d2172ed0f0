"""The agents a store knows: names to assign to, their addresses and queues."""

from __future__ import annotations

from sqlmodel import col, select

from deskterm.store.base import Database
from deskterm.store.errors import InvalidValue
from deskterm.store.models import Agent


class Agents:
    """``deskterm agents list|add`` and the console's own agent."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def list_agents(self) -> list[Agent]:
        with self.db.read() as session:
            return list(session.exec(select(Agent).order_by(col(Agent.name))).all())

    def add_agent(self, name: str, email: str = "", queues: list[str] | None = None) -> Agent:
        """Add an agent, or update the address and queues of one with that name."""
        name = name.strip()
        if not name:
            raise InvalidValue("An agent needs a name.")
        queue_text = ",".join(q.strip() for q in queues or [] if q.strip())
        with self.db.write() as session:
            agent = session.exec(select(Agent).where(Agent.name == name)).first()
            if agent is None:
                agent = Agent(name=name)
            if email:
                agent.email = email.strip().lower()
            if queues is not None:
                agent.queues = queue_text
            session.add(agent)
            session.flush()
            return agent
