"""The Signpost services and SMTP sink as separate OS processes on a given broker and PostgreSQL.

Used by `make run`, the end-to-end tests and the benchmark, so all three run the system the same way.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from signpost_contracts import DEFAULT_NAMESPACE, all_topics
from signpost_contracts.vocabulary import SERVICES as SERVICE_NAMES
from signpost_contracts.vocabulary import Scope
from signpost_devstack.broker import create_topics
from signpost_devstack.fake_notify import DEV_API_KEY
from signpost_devstack.net import free_port, preferred_port
from signpost_devstack.processes import ManagedProcess, console_script
from signpost_runtime.auth import issue_token
from signpost_runtime.db import with_database


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # also its consumer group, DLQ topic and database suffix
    script: str
    default_port: int


# Each service's console script is its name with dashes; the documented ports follow the services' order.
SERVICES = tuple(
    ServiceSpec(name, f"signpost-{name.replace('_', '-')}", 8081 + index) for index, name in enumerate(SERVICE_NAMES)
)
# The developer's token holds every scope, the intermediary one included, so that a referral from
# any practice a newcomer brings is accepted by `make run`, whatever its requester's ODS code.
ALL_SCOPES = [scope.value for scope in Scope]
DEMO_ODS_CODE = "B82005"
# Who may send on the inbound topic in a local stack: the example producer, which sends for the demo practice.
EXAMPLES = Path(__file__).resolve().parents[4] / "examples"
EXAMPLE_INBOUND_PRODUCERS = EXAMPLES / "inbound-producers.toml"
# Intake's SYNTHETIC demo IMD lookup (its README says so): not real ONS or MHCLG data.
DEMO_DEPRIVATION = EXAMPLES.parent / "services/referral_intake/src/referral_intake/demo/deprivation"
# Who to tell, and how, for the demo referrers (notifications' REFERRER_DIRECTORY_FILE).
EXAMPLE_REFERRER_DIRECTORY = EXAMPLES / "referrer-directory.json"
# The Notify templates Signpost's messages use (the fake Notify holds them, as a real Notify service would).
NOTIFY_TEMPLATES = (
    Path(__file__).resolve().parents[4]
    / "services"
    / "notifications"
    / "src"
    / "notifications"
    / "notify-templates.json"
)
# Signpost's own ODS code in BaRS responses on the local stack (a made-up code: no real organisation).
LOCAL_SERVICE_ODS_CODE = "X9S1P"
LOCAL_DUTY_EMAIL = "duty-coordinator@signpost.example.org"
LOCAL_DUTY_SMS = "07700900999"  # Ofcom's range for drama: never a real number


@dataclass
class StackConfig:
    kafka_bootstrap_servers: str
    postgres_url: str
    jwt_secret: str
    log_dir: Path
    namespace: str = DEFAULT_NAMESPACE
    database_prefix: str = "signpost_"
    fixed_ports: bool = True  # the documented ports for `make run`; tests ask for free ones
    smtp_port: int = 1025
    sink_http_port: int = 8025
    bars_http_port: int = 8027
    notify_http_port: int = 8026
    kafka_session_timeout_ms: int = 6000
    partitions: int = 3
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        # The documented ports when free; when something else already listens there (another stack, a
        # stray process), any free port, which the banner prints: a service must never take another
        # process's answers on its port for its own readiness.
        choose = preferred_port if config.fixed_ports else lambda _: free_port()
        self.ports = {s.name: choose(s.default_port) for s in SERVICES}
        config.smtp_port, config.sink_http_port = choose(config.smtp_port), choose(config.sink_http_port)
        config.bars_http_port = choose(config.bars_http_port)
        config.notify_http_port = choose(config.notify_http_port)
        self.sink = ManagedProcess(
            "smtp-sink",
            [
                console_script("signpost-smtp-sink"),
                "--smtp-port",
                str(config.smtp_port),
                "--http-port",
                str(config.sink_http_port),
            ],
            {},
            config.log_dir / "smtp-sink.log",
            ready_url=f"http://127.0.0.1:{config.sink_http_port}/messages",
        )
        self.fake_bars = ManagedProcess(
            "fake-bars",
            [console_script("signpost-fake-bars"), "--http-port", str(config.bars_http_port)],
            {},
            config.log_dir / "fake-bars.log",
            ready_url=f"{self.bars_url}/health",
        )
        self.fake_notify = ManagedProcess(
            "fake-notify",
            [
                console_script("signpost-fake-notify"),
                "--http-port",
                str(config.notify_http_port),
                "--templates",
                str(NOTIFY_TEMPLATES),
            ],
            {},
            config.log_dir / "fake-notify.log",
            ready_url=f"{self.notify_url}/health",
        )
        # The stand-ins for providers: started before the services, stopped after them so late messages land.
        self.providers = [self.sink, self.fake_bars, self.fake_notify]
        self.services = {spec.name: self._service_process(spec) for spec in SERVICES}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def sink_url(self) -> str:
        return f"http://127.0.0.1:{self.config.sink_http_port}"

    @property
    def bars_url(self) -> str:
        """The fake BaRS proxy and receiver: GET /messages lists the servicerequest-responses it took."""
        return f"http://127.0.0.1:{self.config.bars_http_port}"

    @property
    def notify_url(self) -> str:
        """The fake GOV.UK Notify: GET /notifications lists the SMS (and Notify email) it took."""
        return f"http://127.0.0.1:{self.config.notify_http_port}"

    def _intake_env(self) -> dict[str, str]:
        # The SYNTHETIC demo deprivation lookup shipped in intake's package (not real ONS/MHCLG data).
        return {
            "INBOUND_PRODUCERS": str(EXAMPLE_INBOUND_PRODUCERS),
            "IMD_POSTCODE_FILE": str(DEMO_DEPRIVATION / "onspd-synthetic.csv"),
            "IMD_DEPRIVATION_FILE": str(DEMO_DEPRIVATION / "iod-synthetic.csv"),
        }

    def _notifications_env(self) -> dict[str, str]:
        return {
            "GOVUK_NOTIFY_API_KEY": DEV_API_KEY,
            "GOVUK_NOTIFY_BASE_URL": self.notify_url,
            "REFERRER_DIRECTORY_FILE": str(EXAMPLE_REFERRER_DIRECTORY),
            "BARS_PROXY_URL": self.bars_url,
            "BARS_SERVICE_ODS_CODE": LOCAL_SERVICE_ODS_CODE,
            "DUTY_COORDINATOR_EMAIL": LOCAL_DUTY_EMAIL,
            "DUTY_COORDINATOR_SMS": LOCAL_DUTY_SMS,
        }

    def database_url(self, service: str) -> str:
        return with_database(self.config.postgres_url, f"{self.config.database_prefix}{service}")

    def token(self, scopes: list[str] | None = None, ods_code: str | None = DEMO_ODS_CODE) -> str:
        return issue_token(
            self.config.jwt_secret, subject="local-developer", scopes=scopes or ALL_SCOPES, ods_code=ods_code
        )

    def another_instance(self, service: str, instance: str) -> ManagedProcess:
        """One more process of `service` (not started): its database and consumer group, a free HTTP port, its own
        log. A replica joining the group when started and leaving it when stopped, as scaling out and in does."""
        spec = next(s for s in SERVICES if s.name == service)
        return self._service_process(spec, port=free_port(), log_name=f"{service}-{instance}")

    def _service_process(self, spec: ServiceSpec, *, port: int | None = None, log_name: str = "") -> ManagedProcess:
        config = self.config
        port = port or self.ports[spec.name]
        env = {
            "DATABASE_URL": self.database_url(spec.name),
            "KAFKA_BOOTSTRAP_SERVERS": config.kafka_bootstrap_servers,
            "TOPIC_NAMESPACE": config.namespace,
            "HTTP_PORT": str(port),
            "JWT_SECRET": config.jwt_secret,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(config.smtp_port),
            "KAFKA_SESSION_TIMEOUT_MS": str(config.kafka_session_timeout_ms),
            "KAFKA_HEARTBEAT_INTERVAL_MS": str(max(config.kafka_session_timeout_ms // 4, 250)),
            **(self._intake_env() if spec.name == "referral_intake" else {}),
            **(self._notifications_env() if spec.name == "notifications" else {}),
            **config.service_env.get(spec.name, {}),
        }
        return ManagedProcess(
            spec.name,
            [console_script(spec.script)],
            env,
            config.log_dir / f"{log_name or spec.name}.log",
            ready_url=f"http://127.0.0.1:{port}/health/ready",
        )

    def start(self) -> None:
        asyncio.run(
            create_topics(
                self.config.kafka_bootstrap_servers,
                all_topics(self.config.namespace, tuple(spec.name for spec in SERVICES)),
                partitions=self.config.partitions,
            )
        )
        processes = [*self.providers, *self.services.values()]
        try:
            for process in processes:
                process.start()
            for process in processes:
                process.wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        # Services first (they drain and flush their outboxes), the providers' fakes last so late messages land.
        for process in reversed(list(self.services.values())):
            process.stop()
        for process in self.providers:
            process.stop()
