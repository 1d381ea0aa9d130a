"""The global airtime scheduler: pure computation, no I/O.

Each control period the controller builds a :class:`Telemetry` (radio and
vif samples with cumulative counters, plus each vif's contract from the
slice intents) and calls :meth:`GlobalScheduler.step`.  The returned
:class:`Decision` holds the contention domains, the SLA state per slice and
domain, and the guaranteed share and cap for every vif; the controller
pushes :meth:`Decision.changes` over NETCONF.

Layout: :mod:`.telemetry` (input), :mod:`.contention` (domains from
neighbours and channels), :mod:`.topology` (indices), :mod:`.measurement`
(counters to shares and demand), :mod:`.waterfill` and :mod:`.allocation`
(entitlements), :mod:`.sla` (errors, hysteresis, causes), :mod:`.policy`
(plug-ins), :mod:`.scheduler` (the loop state).
"""

from .policy import (
    BUILTIN_POLICIES,
    ContentionAwarePolicy,
    LocalOnlyPolicy,
    PeriodView,
    Policy,
    PolicyMemory,
    PolicyRegistry,
    Settings,
    UnknownPolicyError,
)
from .scheduler import Decision, GlobalScheduler, Ingested, SchedulerConfig, VifSetting
from .sla import Hysteresis, SlaEvent, SlaRecord
from .telemetry import (
    RadioSample,
    Telemetry,
    TelemetryError,
    VifContract,
    VifSample,
    radio_samples_from_state,
)

__all__ = [
    "BUILTIN_POLICIES",
    "ContentionAwarePolicy",
    "Decision",
    "GlobalScheduler",
    "Hysteresis",
    "Ingested",
    "LocalOnlyPolicy",
    "PeriodView",
    "Policy",
    "PolicyMemory",
    "PolicyRegistry",
    "RadioSample",
    "SchedulerConfig",
    "Settings",
    "SlaEvent",
    "SlaRecord",
    "Telemetry",
    "TelemetryError",
    "UnknownPolicyError",
    "VifContract",
    "VifSample",
    "VifSetting",
    "radio_samples_from_state",
]
