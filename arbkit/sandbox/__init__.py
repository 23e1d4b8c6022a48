"""Local Kalshi- and Polymarket-compatible venues driven by a seeded scenario (DESIGN §10)."""

from arbkit.sandbox.scenario import Dislocation, PairSpec, Scenario, ScenarioConfig
from arbkit.sandbox.server import FaultPlan, Sandbox, SandboxThread, fault_plan, run_sandbox

__all__ = [
    "Dislocation",
    "FaultPlan",
    "PairSpec",
    "Sandbox",
    "SandboxThread",
    "Scenario",
    "ScenarioConfig",
    "fault_plan",
    "run_sandbox",
]
