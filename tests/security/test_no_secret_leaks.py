"""Every command, with `--debug` and with `--json`, while marker secrets are configured: no leak.

The markers are credentials that work: an API user provisioned on a served emulator with a marker
subscription key, and the API key the emulator generated for it. They are configured once through a
profile (`momo profile set`) and once through the environment (MOMO_ names for collection, a `.env`
file for disbursement, the older `mtnmomo` names for remittance). Then every command of
`momo_cli.cli.COMMANDS` runs against the served emulator, successes and failures (a wrong API key:
401; INVALID_CURRENCY; a closed port),
and we look for the markers, the Basic credentials and every access token of the token cache in:

- stdout and stderr of every run (the `--debug` log is on stderr);
- every file under the config, data and cache dirs and the working directory (journal, callbacks
  store, reports ...): only `credentials.toml`, the token cache and the self-provisioned credentials
  file may hold a secret, each 0600 in a 0700 directory;
- the served emulator's request log.

The two ways a secret is shown on purpose are checked to be the only ones: `momo provision` prints
the API key it just created, once, and `momo profile show --show-secrets` prints the configured ones.

`INVOCATIONS` says how to run each command; a command without an entry fails
`test_every_command_has_an_invocation`, so a new command is covered as soon as it exists.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner

from tests.security.support import (
    Result,
    Secrets,
    basic_credentials,
    found_in,
    files_holding,
    files_under,
    invoke,
    marker,
    mode,
)
from tests.support.emulator import CallbackReceiver, SandboxApi, free_port

pytestmark = [pytest.mark.served]

PRODUCTS = ("collection", "disbursement", "remittance")
#: Files that may hold a secret (by name), wherever they are under the walked dirs.
SECRET_FILES = {"credentials.toml", "tokens.json", "emulator-credentials.json"}
WORKING_PAYEE = "46733123999"
FAILING_PAYER = "46733123451"  # APPROVAL_REJECTED
NOT_ALLOWED_HOLDER = "46733123452"  # 500 NOT_ALLOWED


# -- the invocations ----------------------------------------------------------------------------------


@dataclass
class Call:
    """One invocation of a command: its arguments (after the command's words), what it may exit with."""

    args: Callable[["World"], list[str]] | list[str] = field(default_factory=list)
    exits: tuple[int, ...] = (0,)
    input: str | None = None
    #: also run it with --json (when the command has that option)
    json: bool = True
    #: shows secrets on purpose: "provision" (a new API key, on stdout) or "show-secrets"
    reveals: str | None = None
    #: called with the run (and the world) afterwards, to remember ids for later calls
    after: Callable[[Result, "World"], None] | None = None
    #: a command that runs until stopped: run it as a real process (see `World.run_serving`)
    serving: bool = False

    def argv(self, world: "World") -> list[str]:
        return list(self.args(world) if callable(self.args) else self.args)


def _remember_reference(result: Result, world: "World") -> None:
    if result.exit_code == 0 and "--json" in result.argv:
        world.reference_id = json.loads(result.stdout)["reference_id"]


def _remember_provisioned(result: Result, world: "World") -> None:
    """`momo provision` printed a new API key: it is a secret from now on, everywhere else."""
    if "--json" in result.argv:
        keys = [json.loads(result.stdout)["api_key"]]
    else:
        keys = re.findall(r"API key\s+([0-9a-f]{32})", result.stdout)
    assert keys, f"no API key in the output of {result.describe()}:\n{result.stdout}"
    for key in keys:
        world.provisioned_keys.append(key)


def _money(*extra: str) -> list[str]:
    return ["--amount", "2", *extra, "--yes"]


WAIT = ["--wait", "--timeout", "20", "--interval", "0.05"]

#: command path -> its invocations, in the order they run (later ones use ids made by earlier ones).
INVOCATIONS: dict[str, list[Call]] = {
    "profile set": [
        Call(["timeout", "31", "--profile", "scratch"], json=False),
        Call(lambda w: ["collection.api_key", "-", "--profile", "scratch"], input="{api_key}\n", json=False),
        Call(lambda w: ["collection.subscription_key", w.subscription_key, "--profile", "scratch"], json=False),
        Call(["timeout", "5", "--profile", "doomed"], json=False),
    ],
    "profile unset": [Call(["timeout", "--profile", "scratch"], json=False)],
    "profile list": [Call()],
    "profile path": [Call()],
    "profile show": [
        Call(),
        Call(["scratch"]),
        Call(["--show-secrets"], reveals="show-secrets"),
    ],
    "profile use": [Call(lambda w: [w.profile], json=False)],
    "profile remove": [Call(["doomed", "--yes"], json=False)],
    "provision": [Call(["--profile", "provisioned", "--provider", "127.0.0.1"], reveals="provision",
                       after=_remember_provisioned)],
    "provision show": [Call()],
    "collect request": [
        Call(_money("--payer", WORKING_PAYEE, *WAIT), after=_remember_reference),
        Call(_money("--payer", FAILING_PAYER, *WAIT), exits=(10,)),
        Call(_money("--payer", WORKING_PAYEE, "--listen", "0", *WAIT), json=False),
        Call(["--amount", "1.234", "--payer", WORKING_PAYEE, "--yes"], exits=(2,), json=False),
    ],
    "collect withdraw": [Call(_money("--payer", WORKING_PAYEE)), Call(_money("--v2", "--payer", WORKING_PAYEE))],
    "collect notify": [Call(lambda w: [w.reference_id, "--message", "Thank you"])],
    "disburse transfer": [Call(_money("--payee", WORKING_PAYEE, *WAIT))],
    "disburse deposit": [Call(_money("--payee", WORKING_PAYEE)), Call(_money("--v2", "--payee", WORKING_PAYEE))],
    "disburse refund": [Call(lambda w: ["--refund", w.reference_id, "--amount", "1", "--yes", *WAIT])],
    "disburse batch run": [
        Call(lambda w: [str(w.batch_file), "--dry-run"]),
        Call(lambda w: [str(w.batch_file), "--yes", "--poll-interval", "0.05",
                        "--report", str(w.home / "report.csv")]),
    ],
    "disburse batch status": [Call(["last"])],
    "disburse batch list": [Call()],
    "remit transfer": [Call(_money("--payee", WORKING_PAYEE))],
    "remit cash-transfer": [Call(_money(
        "--payee", WORKING_PAYEE, "--originating-country", "SE", "--original-amount", "23",
        "--original-currency", "SEK", "--payer-first-name", "Ada", "--payer-surname", "Lovelace",
    ))],
    "status": [
        Call(lambda w: [w.reference_id]),
        Call(lambda w: [w.reference_id, *WAIT]),
        Call([str(uuid.UUID(int=7, version=4)), "--product", "collection"], exits=(5,)),
    ],
    "balance": [
        Call(),
        Call(["--product", "disbursement"]),
        Call(["--product", "collection", "--currency", "XAF"], exits=(2,)),  # refused before asking
    ],
    "account active": [Call([WORKING_PAYEE]), Call([NOT_ALLOWED_HOLDER], exits=(5,))],
    "account info": [Call([WORKING_PAYEE])],
    "journal list": [Call()],
    "journal show": [Call(lambda w: [w.reference_id])],
    "journal reconcile": [Call()],
    "callbacks listen": [Call(serving=True)],  # receives a callback: list and replay have one
    "callbacks list": [Call()],
    "callbacks replay": [Call(lambda w: ["--last", "1", "--to", w.receiver.url()])],
    "sandbox serve": [Call(serving=True, json=False, exits=(0, 130))],  # 130: stopped with Ctrl-C
    "sandbox transactions": [Call(lambda w: ["--db", str(w.server.db_path)])],
    "sandbox reset": [Call(lambda w: ["--db", str(w.tmp / "scratch-emulator.db")], json=False)],
    "doctor": [Call()],
    "completion": [Call(["bash"], json=False)],
}


def command_paths() -> dict[str, click.Command]:
    """Every command a person can run: the leaves of every group, and groups that run on their own."""
    from momo_cli.cli import COMMANDS
    from momo_cli.root import root

    found: dict[str, click.Command] = {}
    ctx = click.Context(root)

    def walk(command: click.Command, words: list[str]) -> None:
        if isinstance(command, click.Group):
            if command.invoke_without_command and words:
                found[" ".join(words)] = command
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*words, name])
        else:
            found[" ".join(words)] = command

    for name in COMMANDS:
        command = root.get_command(ctx, name)
        assert command is not None, f"COMMANDS names {name!r} but it cannot be loaded"
        walk(command, [name])
    return found


def has_json(command: click.Command) -> bool:
    return any("--json" in getattr(param, "opts", ()) for param in command.params)


# -- the world the walk runs in -------------------------------------------------------------------------


@dataclass
class World:
    server: Any
    home: Path
    tmp: Path
    user_id: str
    api_key: str
    subscription_key: str
    profile: str
    receiver: CallbackReceiver
    batch_file: Path
    secrets: Secrets
    reference_id: str | None = None
    provisioned_keys: list[str] = field(default_factory=list)
    results: list[tuple[Result, str | None]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)

    @property
    def dirs(self) -> list[Path]:
        return [Path(os.environ[name]) for name in ("MOMO_CONFIG_DIR", "MOMO_DATA_DIR", "MOMO_CACHE_DIR")]

    def run(self, argv: list[str], *, input: str | None = None, reveals: str | None = None,
            env: dict[str, str] | None = None) -> Result:
        if input is not None:
            input = input.format(api_key=self.api_key)
        result = invoke(["--debug", *argv], input=input, env=env)
        self.results.append((result, reveals))
        self.collect_tokens()
        return result

    def collect_tokens(self) -> None:
        """Every access token the cache has held: none may appear in any output."""
        cache = Path(os.environ["MOMO_CACHE_DIR"]) / "tokens.json"
        if cache.exists():
            for entry in json.loads(cache.read_text())["tokens"].values():
                self.tokens.add(entry["access_token"])

    def run_serving(self, words: list[str], json_mode: bool) -> Result:
        """`momo --debug WORDS` as a real process that serves until SIGINT: used, then stopped."""
        port = free_port()
        argv = ["--debug", *words, "--port", str(port)]
        if words == ["sandbox", "serve"]:
            argv += ["--db", str(self.tmp / "walk-serve.db")]
        if json_mode:
            argv.append("--json")
        process = subprocess.Popen([sys.executable, "-m", "momo_cli", *argv], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while True:
                try:
                    if words == ["sandbox", "serve"]:
                        httpx.get(url + "/_sandbox/health", timeout=1, trust_env=False).raise_for_status()
                        # the secrets travel to it: its log must not show them
                        with httpx.Client(base_url=url, trust_env=False) as client:
                            creds = SandboxApi(client).provision("127.0.0.1", subscription_key=self.subscription_key)
                            # our marker credentials are unknown there: 401, and still not logged
                            for user_id, key in ((creds.user_id, creds.api_key), (self.user_id, self.api_key)):
                                client.post("/collection/token/", headers={
                                    "Authorization": "Basic " + basic_credentials(user_id, key),
                                    "Ocp-Apim-Subscription-Key": self.subscription_key})
                    else:
                        answer = httpx.post(url + "/", trust_env=False, timeout=2, json={
                            "externalId": "ext-1", "amount": "2", "currency": "EUR", "status": "SUCCESSFUL",
                            "financialTransactionId": "123456789",
                            "payer": {"partyIdType": "MSISDN", "partyId": WORKING_PAYEE}})
                        assert answer.status_code == 200, answer.text
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.05)
            time.sleep(0.3)  # let the request line / event reach the output
        finally:
            process.send_signal(signal.SIGINT)
            try:
                stdout, stderr = process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                stdout, stderr = process.communicate()
        result = Result(argv, process.returncode, stdout, stderr)
        self.results.append((result, None))
        return result


def _walk(world: World) -> list[str]:
    """Run every invocation of INVOCATIONS; returns the problems with exit codes."""
    commands = command_paths()
    problems: list[str] = []
    for path, calls in INVOCATIONS.items():
        words = path.split()
        command = commands[path]
        for call in calls:
            variants = [False] + ([True] if call.json and has_json(command) else [])
            for json_mode in variants:
                if call.serving:
                    result = world.run_serving(words, json_mode)
                else:
                    argv = [*words, *call.argv(world)] + (["--json"] if json_mode else [])
                    result = world.run(argv, input=call.input, reveals=call.reveals)
                if result.exit_code not in call.exits:
                    problems.append(f"{result.describe()} (expected {call.exits}):\n"
                                    f"{result.stderr[-2000:]}{result.exception!r}")
                elif call.after is not None:
                    call.after(result, world)
    return problems


def _failing_paths(world: World) -> list[str]:
    """Refusals and failures print errors: they must not carry the secrets either."""
    problems = []
    closed = free_port()
    wrong_key = marker("WRONGKEY")
    world.secrets.add("wrong API key", wrong_key)
    stranger = str(uuid.uuid4())
    wrong = {"MOMO_COLLECTION_USER_ID": stranger, "MOMO_COLLECTION_API_KEY": wrong_key,
             "MOMO_COLLECTION_SUBSCRIPTION_KEY": world.subscription_key}
    checks = [
        (["balance", "--product", "collection"], wrong, (4,)),  # 401 login_failed on /token/
        (["collect", "request", *_money("--payer", WORKING_PAYEE)], wrong, (4,)),
        (["--base-url", f"http://127.0.0.1:{closed}", "balance", "--product", "collection"], None, (6,)),
        (["--base-url", f"http://127.0.0.1:{closed}", "collect", "request", *_money("--payer", WORKING_PAYEE)],
         None, (6,)),
        (["--base-url", f"http://127.0.0.1:{closed}", "doctor"], None, (6,)),
    ]
    for argv, env, exits in checks:
        for json_mode in (False, True):
            result = world.run([*argv, *(["--json"] if json_mode else [])], env=env)
            if result.exit_code not in exits:
                problems.append(f"{result.describe()} (expected {exits}):\n{result.stderr[-2000:]}")
    return problems


def _holding(world: World) -> dict[Path, list[str]]:
    """The files holding a secret, but for the `.env` the person wrote (their file, their secrets)."""
    return {path: names for path, names in files_holding(world.secrets, [world.home, *world.dirs]).items()
            if path != world.home / ".env"}


def _leaks(world: World) -> list[str]:
    """Every place a secret shows up that is not allowed to."""
    for token in world.tokens:
        world.secrets.add(f"access token {token[-6:]}", token)
    for number, key in enumerate(world.provisioned_keys):
        world.secrets.add(f"provisioned API key {number}", key)
    leaks = []
    for result, reveals in world.results:
        for stream in ("stdout", "stderr"):
            names = world.secrets.in_text(getattr(result, stream))
            if reveals == "show-secrets" and stream == "stdout":
                names = [n for n in names if not n.startswith(("API key", "subscription key", "Basic"))]
            if reveals == "provision" and stream == "stdout":
                names = [n for n in names if not n.startswith("provisioned API key")]
            if names:
                leaks.append(f"{result.describe()}: {', '.join(names)} on {stream}")
    for path, names in _holding(world).items():
        if path.name not in SECRET_FILES:
            leaks.append(f"{path}: holds {', '.join(names)}")
    names = world.secrets.in_text(world.server.log_text())
    if names:
        leaks.append(f"the served emulator's log: {', '.join(names)}")
    return leaks


# -- building the world ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(module_served_emulator):
    return module_served_emulator("--settle-after", "0")


@pytest.fixture
def receiver():
    receiver = CallbackReceiver()
    yield receiver
    receiver.close()


def _world(server, isolated_dirs, tmp_path, receiver, profile: str) -> World:
    subscription_key = marker("SUB")
    api = server.api()
    creds = api.provision("127.0.0.1", subscription_key=subscription_key)  # the emulator makes the API key
    secrets_ = Secrets()
    secrets_.add("API key", creds.api_key)
    secrets_.add("subscription key", subscription_key)
    secrets_.add("Basic credentials", basic_credentials(creds.user_id, creds.api_key))
    batch_file = isolated_dirs / "payouts.csv"
    batch_file.write_text("payee,amount,currency,external_id,payer_message\n"
                          f"{WORKING_PAYEE},1.50,EUR,row-1,payout one\n{WORKING_PAYEE},2,EUR,row-2,payout two\n")
    return World(server=server, home=isolated_dirs, tmp=tmp_path, user_id=creds.user_id, api_key=creds.api_key,
                 subscription_key=subscription_key, profile=profile, receiver=receiver, batch_file=batch_file,
                 secrets=secrets_)


def _check(world: World, problems: list[str], sources: dict[str, str]) -> None:
    debug_logged = [r for r, _ in world.results if "debug: momo_cli.api: -> " in r.stderr]
    assert len(debug_logged) > 20, "the --debug log did not show up: the walk would prove nothing"
    assert not problems, "commands did not end as expected:\n\n" + "\n\n".join(problems)
    # Every command used the marker credentials: none made an API user of its own on the emulator.
    assert not (Path(os.environ["MOMO_DATA_DIR"]) / "emulator-credentials.json").exists()
    shown = json.loads(invoke(["profile", "show", "--json"]).stdout)["settings"]
    for product, source in sources.items():
        for field in ("user_id", "api_key", "subscription_key"):
            assert shown[product][field]["source"].startswith(source), (product, field, shown[product])
    leaks = _leaks(world)
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks)
    # The allowed files: 0600 in a 0700 directory.
    holding = _holding(world)
    for path in holding:
        assert mode(path) == 0o600, f"{path} holds secrets with mode {mode(path):04o}"
        assert mode(path.parent) == 0o700, f"{path.parent} holds a secrets file with mode {mode(path.parent):04o}"
    # The detector works: the token cache holds the tokens, and the one-time displays showed keys.
    assert world.tokens and any(p.name == "tokens.json" for p in holding)
    searched = {p.name for p in files_under(*world.dirs)}
    assert {"journal.sqlite3", "callbacks.sqlite3", "config.toml"} <= searched, searched
    shown = [r.stdout for r, reveals in world.results if reveals == "show-secrets"]
    assert shown and all(world.api_key in out and world.subscription_key in out for out in shown)
    printed = "".join(r.stdout for r, reveals in world.results if reveals == "provision")
    assert len(world.provisioned_keys) == 2 and all(key in printed for key in world.provisioned_keys)


def test_every_command_has_an_invocation():
    """A new command fails here until INVOCATIONS says how to run it (and so checks it for leaks)."""
    commands = set(command_paths())
    missing = sorted(commands - set(INVOCATIONS))
    stale = sorted(set(INVOCATIONS) - commands)
    assert not missing, f"commands without an entry in INVOCATIONS: {missing}"
    assert not stale, f"INVOCATIONS names commands that do not exist: {stale}"


@pytest.mark.usefixtures("fast_sending")
def test_secrets_from_a_profile_never_leak(server, isolated_dirs, tmp_path, receiver):
    world = _world(server, isolated_dirs, tmp_path, receiver, profile="sec")
    setup = [["profile", "set", "base_url", server.url, "--profile", "sec"]]
    for product in PRODUCTS:
        setup += [
            ["profile", "set", f"{product}.user_id", world.user_id, "--profile", "sec"],
            ["profile", "set", f"{product}.api_key", "-", "--profile", "sec"],
            ["profile", "set", f"{product}.subscription_key", world.subscription_key, "--profile", "sec"],
        ]
    setup.append(["profile", "use", "sec"])
    for argv in setup:
        result = world.run(argv, input="{api_key}\n" if "-" in argv else None)
        assert result.exit_code == 0, (result.describe(), result.stderr)
    credentials = Path(os.environ["MOMO_CONFIG_DIR"]) / "credentials.toml"
    assert world.api_key in credentials.read_text() and world.subscription_key in credentials.read_text()

    problems = _walk(world) + _failing_paths(world)
    _check(world, problems, {product: "profile sec" for product in PRODUCTS})
    assert any(p.name == "credentials.toml" for p in files_holding(world.secrets, world.dirs))


@pytest.mark.usefixtures("fast_sending")
def test_secrets_from_the_environment_and_dotenv_never_leak(server, isolated_dirs, tmp_path, receiver, monkeypatch):
    world = _world(server, isolated_dirs, tmp_path, receiver, profile="default")
    monkeypatch.setenv("MOMO_BASE_URL", server.url)
    monkeypatch.setenv("MOMO_COLLECTION_USER_ID", world.user_id)
    monkeypatch.setenv("MOMO_COLLECTION_API_KEY", world.api_key)
    monkeypatch.setenv("MOMO_COLLECTION_SUBSCRIPTION_KEY", world.subscription_key)
    # a .env in the working directory
    (isolated_dirs / ".env").write_text(
        f"MOMO_DISBURSEMENT_USER_ID={world.user_id}\nexport MOMO_DISBURSEMENT_API_KEY='{world.api_key}'\n"
        f'MOMO_DISBURSEMENT_SUBSCRIPTION_KEY="{world.subscription_key}"  # the Primary key\n')
    # the older mtnmomo names
    monkeypatch.setenv("REMITTANCE_USER_ID", world.user_id)
    monkeypatch.setenv("REMITTANCE_API_SECRET", world.api_key)
    monkeypatch.setenv("REMITTANCE_PRIMARY_KEY", world.subscription_key)

    problems = _walk(world) + _failing_paths(world)
    _check(world, problems, {"collection": "env MOMO_COLLECTION_", "disbursement": ".env",
                             "remittance": "env REMITTANCE_"})


@pytest.mark.usefixtures("fast_sending")
def test_real_processes_leak_nothing_either(server, isolated_dirs, tmp_path, receiver):
    """The same checks on real `python -m momo_cli --debug ...` processes (their own stderr, exit,
    interpreter shutdown), several at once on one data dir."""
    from concurrent.futures import ThreadPoolExecutor

    world = _world(server, isolated_dirs, tmp_path, receiver, profile="default")
    env = {**os.environ, "MOMO_BASE_URL": server.url, "PYTHONUNBUFFERED": "1"}
    for product in PRODUCTS:
        env[f"MOMO_{product.upper()}_USER_ID"] = world.user_id
        env[f"MOMO_{product.upper()}_API_KEY"] = world.api_key
        env[f"MOMO_{product.upper()}_SUBSCRIPTION_KEY"] = world.subscription_key
    wrong_key = marker("WRONGKEY")
    world.secrets.add("wrong API key", wrong_key)
    wrong = {"MOMO_COLLECTION_USER_ID": str(uuid.uuid4()), "MOMO_COLLECTION_API_KEY": wrong_key}
    closed = f"http://127.0.0.1:{free_port()}"
    runs = [
        (["collect", "request", *_money("--payer", WORKING_PAYEE, *WAIT), "--json"], {}, 0),
        (["disburse", "transfer", *_money("--payee", WORKING_PAYEE, *WAIT)], {}, 0),
        (["remit", "transfer", *_money("--payee", FAILING_PAYER, *WAIT)], {}, 10),
        (["balance"], {}, 0),
        (["doctor", "--json"], {}, 0),
        (["profile", "show", "--json"], {}, 0),
        (["balance", "--product", "collection"], wrong, 4),
        (["collect", "request", *_money("--payer", WORKING_PAYEE)], wrong, 4),
        (["--base-url", closed, "balance", "--product", "collection", "--json"], {}, 6),
        # the API refuses (500 NOT_ALLOWED_TARGET_ENVIRONMENT): its error path, with the markers configured
        (["--target-environment", "mtncameroon", "balance", "--product", "collection", "--currency", "XAF"], {}, 5),
    ]

    def run(argv, extra):
        done = subprocess.run([sys.executable, "-m", "momo_cli", "--debug", *argv], capture_output=True,
                              text=True, env={**env, **extra}, stdin=subprocess.DEVNULL, timeout=60)
        return Result(["--debug", *argv], done.returncode, done.stdout, done.stderr)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda item: run(item[0], item[1]), runs))
    for (argv, _, expected), result in zip(runs, results):
        assert result.exit_code == expected, (result.describe(), result.stderr[-2000:])
        world.results.append((result, None))
    world.collect_tokens()
    assert "debug: momo_cli.api: -> " in results[0].stderr
    leaks = _leaks(world)
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks)


def test_the_older_mtnmomo_command_shows_only_its_new_key(server, monkeypatch):
    """`mtnmomo --provider HOST --key KEY` prints the new user id and API key, as it always did (that
    is its one-time display); the subscription key it was given never shows."""
    from momo_cli.commands.provision import legacy_command

    subscription_key = marker("LEGACYSUB")
    monkeypatch.setenv("MOMO_BASE_URL", server.url)
    result = CliRunner().invoke(legacy_command, ["--provider", "127.0.0.1", "--key", subscription_key],
                                prog_name="mtnmomo")
    assert result.exit_code == 0, result.output
    shown = re.search(r"'APISecret': '([0-9a-f]{32})'", result.stdout)
    assert shown, result.stdout
    assert not found_in(result.stdout + result.stderr, subscription_key)
    for path in files_under(*[Path(os.environ[n]) for n in ("MOMO_CONFIG_DIR", "MOMO_DATA_DIR", "MOMO_CACHE_DIR")]):
        assert shown.group(1).encode() not in path.read_bytes(), f"{path}: mtnmomo saves nothing"
