"""params.py: loading, overrides, one clear error per problem naming the key, no secrets in public_dict."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from mojacheck.evidence.specs import pinned_spec_dir
from mojacheck.fspiop.errors import ParamsError
from mojacheck.params import Params, load_params, params_from_dict

ROOT = Path(__file__).resolve().parents[1]
LOCAL = yaml.safe_load((ROOT / "params" / "local.yaml").read_text())


def _project(tmp_path: Path, doc: dict) -> Path:
    (tmp_path / "params").mkdir(parents=True)
    (tmp_path / "params" / "t.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path


def _error(tmp_path: Path, doc: dict, overrides: tuple[str, ...] = ()) -> ParamsError:
    with pytest.raises(ParamsError) as info:
        load_params("t", root=_project(tmp_path, doc), overrides=overrides)
    return info.value


def _local(**changes: dict) -> dict:
    doc = json.loads(json.dumps(LOCAL))
    for section, values in changes.items():
        doc[section].update(values)
    return doc


def test_local_loads_typed() -> None:
    p = load_params("local", root=ROOT)
    assert isinstance(p, Params)
    assert p.hub.release == "17" and p.hub.embedded and p.hub.port == 4040
    assert p.hub.db == str(ROOT / "outputs" / "local" / "hub.sqlite3")  # absolute: the kernel's cwd differs
    assert p.services.central_settlement == "http://127.0.0.1:4040/settlement/v2"
    assert p.fsps.payees == ("mcpayeefsp1", "mcpayeefsp2")
    assert p.currency == "USD" and p.currencies == ("USD", "XOF")
    assert p.provisioning.ndc == Decimal("100000") and p.api.version == "1.1"
    assert p.timeouts.callback_s == 10.0 and p.deployment.supported_versions is None
    with pytest.raises(AttributeError):
        p.hub.release = "13"  # type: ignore[misc]


def test_example_deployment_loads_with_its_ca_file(tmp_path: Path) -> None:
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "example-deployment.yaml").write_text((ROOT / "params/example-deployment.yaml").read_text())
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "cluster-ca.pem").write_text("not parsed at load")
    p = load_params("example-deployment", root=tmp_path)
    assert not p.hub.embedded and not p.sim.embedded
    assert p.hub.log_level == p.sim.log_level == "info"  # the default: a line per request and callback
    assert p.services.als == "https://account-lookup-service.local"
    assert p.tls.ca_file == str(tmp_path / "certs" / "cluster-ca.pem")


@pytest.mark.parametrize(
    ("doc", "key", "text"),
    [
        (_local(hub={"relaese": "17"}), "hub.relaese", "unknown key"),
        ({**LOCAL, "extra": 1}, "extra", "unknown key"),
        (_local(hub={"release": "15"}), "hub.release", "expected one of 13, 14, 17, got '15'"),
        (_local(hub={"port": "4040"}), "hub.port", "expected a port number"),
        (_local(hub={"embedded": "yes"}), "hub.embedded", "expected true or false"),
        (_local(services={"quoting": None}), "services.quoting", "missing (expected an http(s) URL)"),
        (_local(services={"als": "127.0.0.1:4040"}), "services.als", "expected an http(s) URL"),
        (_local(fsps={"payees": ["only-one"]}), "fsps.payees", "at least 2"),
        (_local(fsps={"fxp": "mcpayerfsp"}), "fsps.fxp", "must differ from fsps.payer and fsps.payees"),
        (_local(provisioning={"ndc": 100.5}), "provisioning.ndc", "decimal amount as a string"),
        (_local(auth={"bearer_token_env": "not a name"}), "auth.bearer_token_env", "environment variable NAME"),
        (_local(services={"als": "http://127.0.0.1:9999"}), "services.als", "hub.embedded is true"),
        (_local(hub={"log_level": "loud"}), "hub.log_level", "expected one of debug, info, warning, error"),
        (_local(sim={"log_level": 10}), "sim.log_level", "expected one of debug, info, warning, error"),
    ],
)
def test_one_clear_error_naming_the_key(tmp_path: Path, doc: dict, key: str, text: str) -> None:
    err = _error(tmp_path, doc)
    assert err.key == key
    assert str(err).startswith(f"params/t.yaml: {key}: ")
    assert text in str(err)


def test_missing_url_when_key_absent(tmp_path: Path) -> None:
    doc = _local()
    del doc["services"]["thirdparty"]
    err = _error(tmp_path, doc)
    assert err.key == "services.thirdparty" and "missing" in str(err)


def test_release_accepts_int_and_stores_str(tmp_path: Path) -> None:
    p = load_params("t", root=_project(tmp_path, _local(hub={"release": 13})))
    assert p.hub.release == "13"


def test_set_overrides_are_typed() -> None:
    p = load_params(
        "local", root=ROOT,
        overrides=["hub.release=14", "timeouts.callback_s=2.5", "deployment.on_us_transfers=true",
                   "currencies=[XOF]", "deployment.supported_versions=[1.0, '1.1']", "api.version=1.0"],
    )
    assert p.hub.release == "14" and p.timeouts.callback_s == 2.5 and p.deployment.on_us_transfers is True
    assert p.currencies == ("XOF",) and p.deployment.supported_versions == ("1.0", "1.1")
    assert p.api.version == "1.0"


def test_bad_override_names_itself() -> None:
    with pytest.raises(ParamsError) as info:
        load_params("local", root=ROOT, overrides=["hub.release=15"])
    assert str(info.value) == (
        "params/local.yaml (--set hub.release=15): hub.release: expected one of 13, 14, 17, got '15'"
    )
    with pytest.raises(ParamsError, match=r"expected key\.path=value"):
        load_params("local", root=ROOT, overrides=["hub.release"])
    with pytest.raises(ParamsError, match=r"hub\.nope: unknown key"):
        load_params("local", root=ROOT, overrides=["hub.nope=1"])


def test_unknown_env_lists_known_ones() -> None:
    with pytest.raises(ParamsError, match=r"params/nope.yaml: no such file \(known envs: .*local"):
        load_params("nope", root=ROOT)


def test_public_dict_has_names_not_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOJACHECK_BEARER_TOKEN", "tok-123-secret")
    monkeypatch.setenv("KEY_PW", "pw-456-secret")
    p = load_params("local", root=ROOT, overrides=["tls.client_key_password_env=KEY_PW"])
    public = json.dumps(p.public_dict())
    assert "tok-123-secret" not in public and "pw-456-secret" not in public
    assert p.public_dict()["auth"] == {"bearer_token_env": "MOJACHECK_BEARER_TOKEN"}
    assert p.secret("bearer_token") == "tok-123-secret" and p.secret("client_key_password") == "pw-456-secret"
    assert "tok-123-secret" not in repr(p)


def test_secret_unset_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOJACHECK_BEARER_TOKEN", raising=False)
    p = load_params("local", root=ROOT, overrides=["auth.bearer_token_env=null"])
    assert p.secret("bearer_token") is None and p.secret("client_key_password") is None
    with pytest.raises(KeyError):
        p.secret("nope")


def test_public_dict_round_trips_in_the_kernel() -> None:
    p = load_params("local", root=ROOT)
    public = json.loads(json.dumps(p.public_dict()))  # what papermill injects
    assert params_from_dict(public) == p


def test_spec_dir_defaults_to_the_pinned_cache_resolves_paths_and_null_is_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # absent (local.yaml): the pinned api-snippets in the user's cache, whether fetched yet or not
    monkeypatch.setenv("MOJACHECK_CACHE_DIR", str(tmp_path / "cache"))
    pinned = str(pinned_spec_dir())
    assert pinned.startswith(str(tmp_path / "cache"))
    assert "spec_dir" not in LOCAL["api"]
    assert load_params("local", root=ROOT).api.spec_dir == pinned
    assert load_params("t", root=_project(tmp_path, _local())).api.spec_dir == pinned
    # a path: that folder, relative to the project root, not required to exist (validation is then off)
    (tmp_path / "rel").mkdir()
    p = load_params("t", root=_project(tmp_path / "rel", _local(api={"spec_dir": "specs/docs"})))
    assert p.api.spec_dir == str(tmp_path / "rel" / "specs" / "docs")
    # null: off on purpose, and it stays off through the kernel's round trip
    (tmp_path / "off").mkdir()
    off = load_params("t", root=_project(tmp_path / "off", _local(api={"spec_dir": None})))
    assert off.api.spec_dir is None
    assert params_from_dict(json.loads(json.dumps(off.public_dict()))).api.spec_dir is None
    assert load_params("local", root=ROOT, overrides=["api.spec_dir=null"]).api.spec_dir is None


CORPUS = ROOT / "tests" / "params_corpus"
EXPECTED = json.loads((CORPUS / "EXPECTED.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_bad_params_file_is_exit_2_with_one_line(tmp_path: Path, name: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 12 item 2: every file of the corpus stops `mojacheck run` with exit 2 and one line naming the
    problem (never a traceback, never exit 1, which means "a check failed")."""
    from mojacheck.cli import main

    (tmp_path / "params").mkdir()
    env = name.removesuffix(".yaml")
    (tmp_path / "params" / name).write_bytes((CORPUS / name).read_bytes())
    code = main(["run", "--env", env, "--root", str(tmp_path), "--output-root", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith(f"mojacheck: params/{env}.yaml") and EXPECTED[name] in err[0], err[0]


def test_a_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "t.yaml").write_text("hub:\n  release: '17'\ncurrencies: [USD]\nhub:\n  port: 1\n")
    with pytest.raises(ParamsError, match=r"params/t\.yaml:4:1: .*duplicate key 'hub' \(first given on line 1\)"):
        load_params("t", root=tmp_path)


def test_the_corpus_loads_once_repaired(tmp_path: Path) -> None:
    """The corpus files are local.yaml broken in one place: the unbroken file loads (so each fails for its own
    reason, not for a stale copy)."""
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "t.yaml").write_text((ROOT / "params" / "local.yaml").read_text(encoding="utf-8"))
    assert load_params("t", root=tmp_path).hub.port == 4040


def test_hub_content_version_and_resource_versions(tmp_path: Path) -> None:
    p = load_params("local", root=ROOT)
    assert p.hub.content_version == "1.1" and p.hub.resource_versions is None  # reference deployments speak 1.1
    p = load_params("local", root=ROOT, overrides=["hub.content_version=2.0",
                                                   "hub.resource_versions={transfers: '1.0', quotes: 1.1}"])
    assert p.hub.content_version == "2.0" and p.hub.resource_versions == {"transfers": "1.0", "quotes": "1.1"}
    err = _error(tmp_path / "a", _local(hub={"release": "14", "content_version": "2.0"}))
    assert "hub.content_version" in str(err) and "not among the versions the hub accepts" in str(err)
    err = _error(tmp_path / "b", _local(hub={"resource_versions": {"transfers": "one"}}))
    assert "hub.resource_versions" in str(err)


def test_jws_files_must_exist(tmp_path: Path) -> None:
    err = _error(tmp_path / "a", _local(jws={"hub_public_key": "nope.pem"}))
    assert "jws.hub_public_key" in str(err) and "file not found" in str(err)
    err = _error(tmp_path / "b", _local(jws={"fsp_keys_dir": "nokeys"}))
    assert "jws.fsp_keys_dir" in str(err)
    p = load_params("local", root=ROOT, overrides=["jws.hub_signing_key_password_env=JWS_PW"])
    assert p.jws.validate is False and p.public_dict()["jws"]["hub_signing_key_password_env"] == "JWS_PW"
