"""How each service's message pipeline stands: aggregates only, never a referral or a person."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from signpost_contracts.base import ContractModel

# A process's consumer groups times the topics each reads, generously.
CONSUMERS_LIMIT = 50


class ConsumerLag(ContractModel):
    """What one consumer group of this instance has still to read on one topic, over the partitions it holds."""

    group: str = Field(max_length=255, description="the Kafka consumer group")
    topic: str = Field(max_length=255)
    partitions: int = Field(ge=0, description="partitions of the topic assigned to this instance")
    lag: int = Field(ge=0, description="records waiting: the high-water mark minus this instance's position, summed")


class PipelineHealth(ContractModel):
    """One instance's pipeline figures, sent every `every_seconds` by the runtime kit of every service.

    The outbox figures are the service's database's (the same from every instance); lag and dead letters sent
    are the instance's own, so the service's are the sum over its instances' newest reports.
    """

    service: str = Field(max_length=64, description="the service, as in signpost_contracts.vocabulary.SERVICES")
    instance: str = Field(max_length=253, description="the process reporting (its host, the pod in Kubernetes)")
    as_of: datetime = Field(description="when these figures were read")
    every_seconds: float = Field(gt=0, description="how often this instance reports: later than a few of these, stale")
    outbox_waiting: int = Field(ge=0, description="outbox rows waiting to be published (parked rows excluded)")
    outbox_parked: int = Field(ge=0, description="outbox rows set aside because the broker refused them for good")
    dead_letters_sent: int = Field(ge=0, description="messages this instance dead-lettered since it started")
    dead_letters_parked: int = Field(
        ge=0, description="dead-letter copies too large for their topic, parked in the outbox (of outbox_parked)"
    )
    consumers: list[ConsumerLag] = Field(
        max_length=CONSUMERS_LIMIT,
        description="lag per consumer group and topic; empty for a service that consumes nothing, or before the"
        " broker has assigned partitions",
    )
