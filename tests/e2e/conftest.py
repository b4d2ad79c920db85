"""The four services and the SMTP sink as separate OS processes on the session's real infrastructure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from signpost_devstack.infra import Infrastructure
from signpost_devstack.stack import LocalStack
from support.fault_report import OUTCOMES, FaultReport, report_lines
from support.infra import Namespace, unique
from support.stack import stack_for_run


@pytest.fixture(scope="module")
def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    run = unique("e2e")
    local = stack_for_run(
        run,
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        postgres_url=infrastructure.postgres_url,
        log_dir=tmp_path_factory.mktemp(run),
    )
    local.start()
    yield local
    local.stop()
    for name, process in local.services.items():
        assert process.process is not None
        assert process.process.returncode == 0, f"{name} did not shut down cleanly:\n{process.log_tail()}"


@pytest.fixture
def stack_namespace(stack: LocalStack) -> Namespace:
    return Namespace(stack.config.namespace, stack.config.kafka_bootstrap_servers)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if item.get_closest_marker("faults") and (report.when == "call" or report.failed):
        fault = item.callspec.id if hasattr(item, "callspec") else item.name
        item.config.stash.setdefault(OUTCOMES, {})[item.nodeid] = (fault, report.outcome)
    return report


@pytest.fixture
def fault_report(request: pytest.FixtureRequest) -> FaultReport:
    return FaultReport(request.config, request.node.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    lines = report_lines(config)
    if lines:
        terminalreporter.section("fault suite")
        for line in lines:
            terminalreporter.write_line(line)
