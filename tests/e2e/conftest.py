"""Fixtures: a Bedrock simulator that verifies SigV4 with botocore, a real Envoy running the
built filter in front of it, and the official openai SDK pointed at Envoy."""

import json
import urllib.request

import openai
import pytest

from harness import Envoy
from sim import start_sim

REGION = "us-east-1"
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN"
CLAUDE = "us.anthropic.claude-sonnet-4-20250514-v1:0"


def filter_config(**overrides):
    cfg = {
        "region": REGION,
        "credentials": {"access_key_id": AKID, "secret_access_key": SECRET, "session_token": TOKEN},
        "models": {"claude": CLAUDE},
    }
    cfg.update(overrides)
    return cfg


class SimControl:
    def __init__(self, port, sim):
        self.port, self.sim = port, sim

    def _post(self, path, obj):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=json.dumps(obj).encode(), method="POST")
        urllib.request.urlopen(req).read()

    def scenario(self, model_id, **s):
        self._post("/__sim/scenario", dict(s, model_id=model_id))

    def reset(self):
        self._post("/__sim/reset", {})

    @property
    def requests(self):
        with self.sim.lock:
            return list(self.sim.requests)


@pytest.fixture(scope="session")
def sim():
    server, port, state = start_sim(region=REGION, access_key=AKID, secret_key=SECRET, session_token=TOKEN,
                                    bearer_token="bedrock-api-key-test")
    yield SimControl(port, state)
    server.shutdown()


def filter_envoy(port, name, **config):
    """A fixture's body (`yield from`): Envoy running the filter with `filter_config(**config)` in
    front of 127.0.0.1:`port`, stopped at teardown."""
    e = Envoy(filter_config(**config), upstream=("127.0.0.1", port), name=name)
    yield e
    e.stop()


@pytest.fixture(scope="session")
def envoy(sim):
    yield from filter_envoy(sim.port, "main")


@pytest.fixture
def start_envoy(sim):
    started = []

    def start(cfg, **kw):
        kw.setdefault("upstream", ("127.0.0.1", sim.port))
        e = Envoy(cfg, name="extra", **kw)
        started.append(e)
        return e

    yield start
    for e in started:
        e.stop()


# What an OpenAI client gets for each Bedrock error: status, the SDK's exception, the error type.
OPENAI_ERRORS = {
    "ValidationException": (400, openai.BadRequestError, "invalid_request_error"),
    "UnrecognizedClientException": (401, openai.AuthenticationError, "authentication_error"),
    "InvalidSignatureException": (401, openai.AuthenticationError, "authentication_error"),
    "ExpiredTokenException": (401, openai.AuthenticationError, "authentication_error"),
    "IncompleteSignatureException": (401, openai.AuthenticationError, "authentication_error"),
    "MissingAuthenticationTokenException": (401, openai.AuthenticationError, "authentication_error"),
    "AccessDeniedException": (403, openai.PermissionDeniedError, "permission_error"),
    "ResourceNotFoundException": (404, openai.NotFoundError, "not_found_error"),
    "ThrottlingException": (429, openai.RateLimitError, "rate_limit_error"),
    "ServiceQuotaExceededException": (429, openai.RateLimitError, "rate_limit_error"),
    "InternalServerException": (500, openai.InternalServerError, "server_error"),
    "ModelErrorException": (502, openai.InternalServerError, "server_error"),
    "ModelStreamErrorException": (502, openai.InternalServerError, "server_error"),
    "ServiceUnavailableException": (503, openai.InternalServerError, "server_error"),
    "ModelNotReadyException": (503, openai.InternalServerError, "server_error"),
    "ModelTimeoutException": (504, openai.InternalServerError, "server_error"),
}


def sdk_error(client, exc, model, stream, messages=None):
    """The `exc` the OpenAI SDK raises for one request to `model` (streamed and read to the end
    when `stream`)."""
    with pytest.raises(exc) as e:
        out = client.chat.completions.create(model=model, messages=messages or [{"role": "user", "content": "x"}],
                                             stream=stream)
        list(out) if stream else None
    return e.value


@pytest.fixture
def client(envoy, sim):
    sim.reset()
    return openai.OpenAI(base_url=envoy.base_url, api_key="sk-client-secret-never-forwarded", max_retries=0, timeout=30)
