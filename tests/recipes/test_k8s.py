"""examples/k8s/: every manifest against the Kubernetes schemas (kubernetes-validate, offline, strict: an unknown field
fails), then what the schemas cannot know: the pieces of one environment fit together (params, token, simulator
Service, volume), the params load with mojacheck's own validation, the pod runs as the image's user on a read-only
root with the image's writable folders mounted, and resources are requested for every container.
No cluster is reachable from the machines this was written on, so nothing is applied; `nox -s container` runs the
image's commands."""

from __future__ import annotations

import re
import shlex
from itertools import pairwise
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from containerfile import env_pairs, parse

from mojacheck.params import params_from_dict

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "examples" / "k8s"
# 1.29: the first release whose pods run native sidecars (init containers with restartPolicy Always) by default;
# the newest is the newest schema kubernetes-validate bundles.
VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


def _docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


ALL = {f.name: _docs(f.name) for f in sorted(K8S.glob("*.yaml"))}
ENVS = ("dev", "staging")


def _kind(kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [d for docs in ALL.values() for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]


def _image() -> tuple[int, dict[str, str]]:
    """The image's uid and environment, from the Containerfile."""
    _, stages = parse(ROOT / "Containerfile")
    uid = int(stages[-1].all("USER")[-1].args.split(":")[0])
    return uid, dict(p for i in stages[-1].all("ENV") for p in env_pairs(i.args))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(ALL))
def test_manifests_validate_against_the_kubernetes_schemas(name: str, version: str) -> None:
    for doc in ALL[name]:
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_validation_is_not_vacuous() -> None:
    job = yaml.safe_load(yaml.safe_dump(_kind("CronJob", "mojacheck-staging")[0]))
    job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["imagee"] = "typo"
    with pytest.raises(kubernetes_validate.ValidationError, match="imagee"):
        kubernetes_validate.validate(job, VERSIONS[-1], strict=True)
    job = yaml.safe_load(yaml.safe_dump(_kind("CronJob", "mojacheck-staging")[0]))
    job["spec"]["schedule"] = 130
    with pytest.raises(kubernetes_validate.ValidationError, match="130"):
        kubernetes_validate.validate(job, VERSIONS[-1], strict=True)


def _pod(cronjob: dict[str, Any]) -> dict[str, Any]:
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def test_every_cronjob_is_forbid_non_root_read_only_and_sized() -> None:
    uid, env = _image()
    cronjobs = _kind("CronJob")
    assert {c["metadata"]["name"] for c in cronjobs} == {"mojacheck-dev", "mojacheck-staging", "mojacheck-publish"}
    for cronjob in cronjobs:
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid" and cronjob["spec"]["timeZone"] == "Etc/UTC"
        pod = _pod(cronjob)
        assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
        context = pod["securityContext"]
        assert (context["runAsNonRoot"], context["runAsUser"], context["runAsGroup"], context["fsGroup"]) == (
            True, uid, uid, uid)
        scratch = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for container in _containers(pod):
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts.get("/tmp") in scratch and mounts.get(env["HOME"]) in scratch  # the image writes there
            assert mounts.get("/outputs", "outputs") == "outputs"
            requests = container["resources"]["requests"]
            assert set(requests) == {"cpu", "memory"} and "memory" in container["resources"]["limits"]
            assert container["image"] == pod["containers"][0]["image"]


def _args(container: dict[str, Any]) -> dict[str, list[str]]:
    """`--flag value` pairs of a container's args (repeated flags keep every value)."""
    args, found = container["args"], {}
    for flag, value in pairwise(args):
        if flag.startswith("--"):
            found.setdefault(flag, []).append(value)
    return found


@pytest.mark.parametrize("env", ENVS)
def test_an_environments_pieces_fit_together(env: str, tmp_path: Path) -> None:
    name = f"mojacheck-{env}"
    cronjob, = _kind("CronJob", name)
    pod = _pod(cronjob)
    suite, = pod["containers"]
    sim, = pod["initContainers"]
    assert suite["args"] == ["run", "--env", env]
    # params: the ConfigMap's key mounted where the image's runner reads params/<env>.yaml
    config_map, = _kind("ConfigMap", name)
    mount, = [m for m in suite["volumeMounts"] if m["name"] == "params"]
    assert mount["mountPath"] == f"{_image()[1]['MOJACHECK_ROOT']}/params/{env}.yaml"
    assert mount["subPath"] == f"{env}.yaml" and mount.get("readOnly") is True
    assert next(v for v in pod["volumes"] if v["name"] == "params")["configMap"]["name"] == name
    params = params_from_dict(yaml.safe_load(config_map["data"][f"{env}.yaml"]), source=name, root=tmp_path)
    assert params.hub.embedded is False and params.sim.embedded is False
    # the token: from the Secret, into the variable the params name, for the suite and the simulator
    secret, = _kind("Secret", name)
    for container in (suite, sim):
        ref, = [e for e in container["env"] if e["name"] == params.auth.bearer_token_env]
        key = ref["valueFrom"]["secretKeyRef"]
        assert key["name"] == name and key["key"] in secret["stringData"]
    assert not secret["stringData"]["bearer-token"]  # no value is committed
    # the simulator: a sidecar the suite reaches on loopback, the hub through the Service
    assert sim["restartPolicy"] == "Always" and "startupProbe" in sim
    flags = _args(sim)
    assert sim["args"][0] == "sim" and flags["--host"] == ["0.0.0.0"]
    assert params.sim.url == f"http://127.0.0.1:{flags['--port'][0]}"
    service, = _kind("Service", f"mojacheck-sim-{env}")
    pod_labels = cronjob["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"] and all(pod_labels.get(k) == v for k, v in service["spec"]["selector"].items())
    assert params.sim.public_url == (f"http://{service['metadata']['name']}.{service['metadata']['namespace']}"
                                     f".svc.cluster.local:{service['spec']['ports'][0]['port']}")
    routes = dict(r.split("=", 1) for r in flags["--route"])
    assert flags["--hub-url"] == [params.services.ml_api_adapter]
    assert routes["parties"] == routes["participants"] == params.services.als
    assert routes["quotes"] == params.services.quoting
    assert {routes[r] for r in ("consentRequests", "consents", "thirdpartyRequests", "accounts", "services")} == {
        params.services.thirdparty}
    # exit 1 (a check failed) fails the job at once; exit 2 is left to backoffLimit
    rule, evicted = cronjob["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]["rules"]
    assert rule["action"] == "FailJob" and rule["onExitCodes"]["values"] == [1]
    assert evicted == {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}
    assert rule["onExitCodes"]["containerName"] == suite["name"]
    claim = next(v for v in pod["volumes"] if v["name"] == "outputs")["persistentVolumeClaim"]["claimName"]
    assert _kind("PersistentVolumeClaim", claim)


def test_envs_do_not_share_a_schedule_and_the_site_is_published_after_them() -> None:
    minutes = {c["metadata"]["name"]: c["spec"]["schedule"] for c in _kind("CronJob")}
    assert len(set(minutes.values())) == len(minutes)
    publish, = _kind("CronJob", "mojacheck-publish")
    container, = _pod(publish)["containers"]
    assert container["args"][:2] == ["publish", "--all"]
    out = _args(container)["--out"][0]
    site, = _kind("Deployment", "mojacheck-site")
    mount, = site["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][:1]
    assert out == f"/outputs/{mount['subPath']}" and mount["readOnly"] is True
    hour = {name: int(shlex.split(s)[1]) for name, s in minutes.items()}
    assert hour["mojacheck-publish"] > max(h for n, h in hour.items() if n != "mojacheck-publish")


def test_no_secret_value_and_no_latest_tag() -> None:
    for secret in _kind("Secret"):
        assert not any({**secret.get("data", {}), **secret.get("stringData", {})}.values())
    for cronjob in _kind("CronJob"):
        for container in _containers(_pod(cronjob)):
            for variable in container.get("env", []):
                if re.search(r"TOKEN|PASSWORD|SECRET|KEY", variable["name"]):
                    assert "value" not in variable and "secretKeyRef" in variable["valueFrom"], variable
    for docs in ALL.values():
        for doc in docs:
            for image in re.findall(r"image: (\S+)", yaml.safe_dump(doc)):
                assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image
