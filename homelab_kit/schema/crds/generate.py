"""The source of homelab-kit's own strict schemas; writes ``crds/*.json``.

Written by hand from the upstream API types (Flux: kustomize-controller ``api/v1``,
helm-controller ``api/v2``, source-controller ``api/v1`` and ``api/v1beta2``, the
shared ``fluxcd/pkg/apis/{meta,kustomize}``; Infisical: kubernetes-operator
``api/v1alpha1``; kustomize: ``api/types``), field by field: names, types, enums,
patterns, bounds and required fields as the CRDs declare them.  Validation rules
written in CEL (``x-kubernetes-validations``, e.g. "chart or chartRef") are not
JSON-schema checks and are left to lint rules.  A required field the API server
defaults is not required here.

Regenerate after editing::

    python -m homelab_kit.schema.crds.generate

``tests/schema`` fails when the JSON files and this module disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

Schema = dict[str, Any]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
SHORT_DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"


# ----------------------------------------------------------------- helpers


def string(**extra: Any) -> Schema:
    return {"type": "string", **extra}


def boolean() -> Schema:
    return {"type": "boolean"}


def integer(**extra: Any) -> Schema:
    return {"type": "integer", **extra}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def duration(pattern: str = DURATION) -> Schema:
    return {"type": "string", "pattern": pattern}


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def strings() -> Schema:
    return array(string())


def string_map() -> Schema:
    return {"type": "object", "additionalProperties": {"type": "string"}}


def ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def obj(properties: dict[str, Schema], *required: str) -> Schema:
    """A strict object: only ``properties`` are allowed."""
    out: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


def preserve() -> Schema:
    """Free-form JSON (``apiextensionsv1.JSON``): anything goes."""
    return {"x-kubernetes-preserve-unknown-fields": True}


def kind(
    group: str,
    version: str,
    kind_name: str,
    description: str,
    spec: Schema,
    defs: dict[str, Schema],
) -> Schema:
    """The root schema of a custom resource with the given spec."""
    api_version = f"{group}/{version}"
    return {
        "$schema": DIALECT,
        "description": description,
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string", "enum": [api_version]},
            "kind": {"type": "string", "enum": [kind_name]},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
        "additionalProperties": False,
        "x-kubernetes-group-version-kind": [
            {"group": group, "kind": kind_name, "version": version}
        ],
        **({"$defs": dict(sorted(defs.items()))} if defs else {}),
    }


# ----------------------------------------------------------------- Flux shared

FLUX_META: dict[str, Schema] = {
    # fluxcd/pkg/apis/meta
    "LocalObjectReference": obj({"name": string()}, "name"),
    "SecretKeyReference": obj({"name": string(), "key": string()}, "name"),
    "KubeConfigReference": obj(
        {"configMapRef": ref("LocalObjectReference"), "secretRef": ref("SecretKeyReference")}
    ),
    "DependencyReference": obj(
        {"name": string(), "namespace": string(), "readyExpr": string()}, "name"
    ),
    # fluxcd/pkg/apis/kustomize
    "Selector": obj(
        {
            "group": string(),
            "version": string(),
            "kind": string(),
            "name": string(),
            "namespace": string(),
            "annotationSelector": string(),
            "labelSelector": string(),
        }
    ),
    "Patch": obj({"patch": string(), "target": ref("Selector")}, "patch"),
    "Image": obj(
        {"name": string(), "newName": string(), "newTag": string(), "digest": string()}, "name"
    ),
    "CustomHealthCheck": obj(
        {
            "apiVersion": string(),
            "kind": string(),
            "current": string(),
            "inProgress": string(),
            "failed": string(),
        },
        "apiVersion",
        "current",
    ),
    "CommonMetadata": obj({"annotations": string_map(), "labels": string_map()}),
    "IgnoreRule": obj({"paths": strings(), "target": ref("Selector")}, "paths"),
}


def flux_defs(*names: str) -> dict[str, Schema]:
    """The shared Flux definitions ``names`` and everything they reference."""
    wanted = set(names)
    changed = True
    while changed:
        changed = False
        for name in list(wanted):
            for other in _references(FLUX_META[name]):
                if other not in wanted:
                    wanted.add(other)
                    changed = True
    return {name: FLUX_META[name] for name in sorted(wanted)}


def _references(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        target = schema.get("$ref")
        if isinstance(target, str) and target.startswith("#/$defs/"):
            found.add(target.removeprefix("#/$defs/"))
        for value in schema.values():
            found |= _references(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _references(value)
    return found


# ----------------------------------------------------------------- kustomize.toolkit.fluxcd.io/v1


def flux_kustomization() -> Schema:
    spec = obj(
        {
            "buildMetadata": array(enum("originAnnotations", "transformerAnnotations")),
            "commonMetadata": ref("CommonMetadata"),
            "components": strings(),
            "decryption": obj(
                {
                    "provider": enum("sops"),
                    "secretRef": ref("LocalObjectReference"),
                    "serviceAccountName": string(),
                },
                "provider",
            ),
            "deletionPolicy": enum("MirrorPrune", "Delete", "WaitForTermination", "Orphan"),
            "dependsOn": array(ref("DependencyReference")),
            "force": boolean(),
            "healthCheckExprs": array(ref("CustomHealthCheck")),
            "healthChecks": array(
                obj(
                    {
                        "apiVersion": string(),
                        "kind": string(),
                        "name": string(),
                        "namespace": string(),
                    },
                    "kind",
                    "name",
                )
            ),
            "ignore": array(ref("IgnoreRule")),
            "ignoreMissingComponents": boolean(),
            "images": array(ref("Image")),
            "interval": duration(),
            "kubeConfig": ref("KubeConfigReference"),
            "namePrefix": string(minLength=1, maxLength=200),
            "nameSuffix": string(minLength=1, maxLength=200),
            "patches": array(ref("Patch")),
            "path": string(),
            "postBuild": obj(
                {
                    "substitute": string_map(),
                    "substituteFrom": array(
                        obj(
                            {
                                "kind": enum("Secret", "ConfigMap"),
                                "name": string(minLength=1, maxLength=253),
                                "optional": boolean(),
                            },
                            "kind",
                            "name",
                        )
                    ),
                    "substituteStrategy": enum("WithVariables", "Always"),
                }
            ),
            "prune": boolean(),
            "retryInterval": duration(),
            "serviceAccountName": string(),
            "sourceRef": obj(
                {
                    "apiVersion": string(),
                    "kind": enum("OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"),
                    "name": string(),
                    "namespace": string(),
                },
                "kind",
                "name",
            ),
            "suspend": boolean(),
            "targetNamespace": string(minLength=1, maxLength=63),
            "timeout": duration(),
            "wait": boolean(),
        },
        "interval",
        "prune",
        "sourceRef",
    )
    defs = flux_defs(
        "CommonMetadata",
        "LocalObjectReference",
        "DependencyReference",
        "CustomHealthCheck",
        "IgnoreRule",
        "Image",
        "KubeConfigReference",
        "Patch",
    )
    return kind(
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "Kustomization",
        "A Flux Kustomization: applies a path of a source with kustomize.",
        spec,
        defs,
    )


# ----------------------------------------------------------------- helm.toolkit.fluxcd.io/v2


def helm_release() -> Schema:
    timeout = duration()
    remediation_common = {
        "ignoreTestFailures": boolean(),
        "remediateLastFailure": boolean(),
        "retries": integer(),
    }
    action_strategy = obj(
        {"name": enum("RemediateOnFailure", "RetryOnFailure"), "retryInterval": duration()},
        "name",
    )
    crds_policy = enum("Skip", "Create", "CreateReplace")
    spec = obj(
        {
            "chart": obj(
                {
                    "metadata": obj({"annotations": string_map(), "labels": string_map()}),
                    "spec": obj(
                        {
                            "chart": string(minLength=1, maxLength=2048),
                            "ignoreMissingValuesFiles": boolean(),
                            "interval": duration(),
                            "reconcileStrategy": enum("ChartVersion", "Revision"),
                            "sourceRef": obj(
                                {
                                    "apiVersion": string(),
                                    "kind": enum("HelmRepository", "GitRepository", "Bucket"),
                                    "name": string(minLength=1, maxLength=253),
                                    "namespace": string(minLength=1, maxLength=63),
                                },
                                "kind",
                                "name",
                            ),
                            "valuesFiles": strings(),
                            # provider is required but defaulted (cosign) by the API server
                            "verify": obj(
                                {
                                    "provider": enum("cosign", "notation"),
                                    "secretRef": ref("LocalObjectReference"),
                                }
                            ),
                            "version": string(),
                        },
                        "chart",
                        "sourceRef",
                    ),
                },
                "spec",
            ),
            "chartRef": obj(
                {
                    "apiVersion": string(),
                    "kind": enum("OCIRepository", "HelmChart", "ExternalArtifact"),
                    "name": string(minLength=1, maxLength=253),
                    "namespace": string(minLength=1, maxLength=63),
                },
                "kind",
                "name",
            ),
            "commonMetadata": ref("CommonMetadata"),
            "dependsOn": array(ref("DependencyReference")),
            "driftDetection": obj(
                {
                    "ignore": array(ref("IgnoreRule")),
                    "mode": enum("enabled", "warn", "disabled"),
                }
            ),
            "healthCheckExprs": array(ref("CustomHealthCheck")),
            "install": obj(
                {
                    "crds": crds_policy,
                    "createNamespace": boolean(),
                    "disableHooks": boolean(),
                    "disableOpenAPIValidation": boolean(),
                    "disableSchemaValidation": boolean(),
                    "disableTakeOwnership": boolean(),
                    "disableWait": boolean(),
                    "disableWaitForJobs": boolean(),
                    "remediation": obj(dict(remediation_common)),
                    "replace": boolean(),
                    "serverSideApply": boolean(),
                    "skipCRDs": boolean(),
                    "strategy": action_strategy,
                    "timeout": timeout,
                }
            ),
            "interval": duration(),
            "kubeConfig": ref("KubeConfigReference"),
            "maxHistory": integer(),
            "persistentClient": boolean(),
            "postRenderStrategy": enum("nohooks", "combined", "separate"),
            "postRenderers": array(
                obj(
                    {
                        "kustomize": obj(
                            {"images": array(ref("Image")), "patches": array(ref("Patch"))}
                        )
                    }
                )
            ),
            "releaseName": string(minLength=1, maxLength=53),
            "rollback": obj(
                {
                    "cleanupOnFail": boolean(),
                    "disableHooks": boolean(),
                    "disableWait": boolean(),
                    "disableWaitForJobs": boolean(),
                    "force": boolean(),
                    "recreate": boolean(),
                    "serverSideApply": enum("enabled", "disabled", "auto"),
                    "timeout": timeout,
                }
            ),
            "serviceAccountName": string(minLength=1, maxLength=253),
            "storageNamespace": string(minLength=1, maxLength=63),
            "suspend": boolean(),
            "targetNamespace": string(minLength=1, maxLength=63),
            "test": obj(
                {
                    "enable": boolean(),
                    "filters": array(
                        obj(
                            {"exclude": boolean(), "name": string(minLength=1, maxLength=253)},
                            "name",
                        )
                    ),
                    "ignoreFailures": boolean(),
                    "timeout": timeout,
                }
            ),
            "timeout": timeout,
            "uninstall": obj(
                {
                    "deletionPropagation": enum("background", "foreground", "orphan"),
                    "disableHooks": boolean(),
                    "disableWait": boolean(),
                    "keepHistory": boolean(),
                    "timeout": timeout,
                }
            ),
            "upgrade": obj(
                {
                    "chartNameChangeStrategy": enum("InPlaceUpdate", "Reinstall"),
                    "cleanupOnFail": boolean(),
                    "crds": crds_policy,
                    "disableHooks": boolean(),
                    "disableOpenAPIValidation": boolean(),
                    "disableSchemaValidation": boolean(),
                    "disableTakeOwnership": boolean(),
                    "disableWait": boolean(),
                    "disableWaitForJobs": boolean(),
                    "force": boolean(),
                    "preserveValues": boolean(),
                    "remediation": obj(
                        {**remediation_common, "strategy": enum("rollback", "uninstall")}
                    ),
                    "serverSideApply": enum("enabled", "disabled", "auto"),
                    "strategy": action_strategy,
                    "timeout": timeout,
                }
            ),
            "values": preserve(),
            "valuesFrom": array(
                obj(
                    {
                        "kind": enum("Secret", "ConfigMap"),
                        "literal": boolean(),
                        "name": string(minLength=1, maxLength=253),
                        "optional": boolean(),
                        "targetPath": string(
                            maxLength=250, pattern=r"^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$"
                        ),
                        "valuesKey": string(maxLength=253, pattern=r"^[\-._a-zA-Z0-9]+$"),
                    },
                    "kind",
                    "name",
                )
            ),
            "waitStrategy": obj({"name": enum("poller", "legacy")}, "name"),
        },
        "interval",
    )
    defs = flux_defs(
        "CommonMetadata",
        "CustomHealthCheck",
        "DependencyReference",
        "IgnoreRule",
        "Image",
        "KubeConfigReference",
        "LocalObjectReference",
        "Patch",
    )
    return kind(
        "helm.toolkit.fluxcd.io",
        "v2",
        "HelmRelease",
        "A Flux HelmRelease: installs and upgrades a Helm chart.",
        spec,
        defs,
    )


# ----------------------------------------------------------------- source.toolkit.fluxcd.io


def oci_repository(version: str) -> Schema:
    verify: dict[str, Schema] = {
        "matchOIDCIdentity": array(
            obj({"issuer": string(), "subject": string()}, "issuer", "subject")
        ),
        "provider": enum("cosign", "notation"),
        "secretRef": ref("LocalObjectReference"),
    }
    properties: dict[str, Schema] = {
        "certSecretRef": ref("LocalObjectReference"),
        "ignore": string(),
        "insecure": boolean(),
        "interval": duration(),
        "layerSelector": obj({"mediaType": string(), "operation": enum("extract", "copy")}),
        "provider": enum("generic", "aws", "azure", "gcp"),
        "proxySecretRef": ref("LocalObjectReference"),
        "ref": obj(
            {"digest": string(), "semver": string(), "semverFilter": string(), "tag": string()}
        ),
        "secretRef": ref("LocalObjectReference"),
        "serviceAccountName": string(),
        "suspend": boolean(),
        "timeout": duration(SHORT_DURATION),
        "url": string(pattern="^oci://.*$"),
        "verify": obj(verify, "provider"),
    }
    if version == "v1":
        # Flux 2.6+: OCIRepository v1 (GA) added keyless-verification roots and
        # ServiceAccountToken credentials.
        verify["trustedRootSecretRef"] = ref("LocalObjectReference")
        properties["credential"] = enum("ServiceAccountToken")
        properties["audiences"] = strings()
    spec = obj(dict(sorted(properties.items())), "interval", "url")
    return kind(
        "source.toolkit.fluxcd.io",
        version,
        "OCIRepository",
        "A Flux OCIRepository: an OCI artifact (e.g. a Helm chart) to fetch and watch.",
        spec,
        flux_defs("LocalObjectReference"),
    )


def helm_repository() -> Schema:
    spec = obj(
        {
            "accessFrom": obj(
                {"namespaceSelectors": array(obj({"matchLabels": string_map()}))},
                "namespaceSelectors",
            ),
            "certSecretRef": ref("LocalObjectReference"),
            "insecure": boolean(),
            "interval": duration(),
            "passCredentials": boolean(),
            "provider": enum("generic", "aws", "azure", "gcp"),
            "secretRef": ref("LocalObjectReference"),
            "suspend": boolean(),
            "timeout": duration(SHORT_DURATION),
            "type": enum("default", "oci"),
            "url": string(pattern="^(http|https|oci)://.*$"),
        },
        "url",
    )
    return kind(
        "source.toolkit.fluxcd.io",
        "v1",
        "HelmRepository",
        "A Flux HelmRepository: an HTTP/S (or legacy OCI) Helm chart repository.",
        spec,
        flux_defs("LocalObjectReference"),
    )


def git_repository() -> Schema:
    spec = obj(
        {
            "ignore": string(),
            "include": array(
                obj(
                    {
                        "fromPath": string(),
                        "repository": ref("LocalObjectReference"),
                        "toPath": string(),
                    },
                    "repository",
                )
            ),
            "interval": duration(),
            "provider": enum("generic", "aws", "azure", "github"),
            "proxySecretRef": ref("LocalObjectReference"),
            "recurseSubmodules": boolean(),
            "ref": obj(
                {
                    "branch": string(),
                    "commit": string(),
                    "name": string(),
                    "semver": string(),
                    "tag": string(),
                }
            ),
            "secretRef": ref("LocalObjectReference"),
            "serviceAccountName": string(),
            "sparseCheckout": strings(),
            "suspend": boolean(),
            "timeout": duration(SHORT_DURATION),
            "url": string(pattern="^(http|https|ssh)://.*$"),
            "verify": obj(
                {
                    "mode": enum("head", "HEAD", "Tag", "TagAndHEAD"),
                    "secretRef": ref("LocalObjectReference"),
                },
                "secretRef",
            ),
        },
        "interval",
        "url",
    )
    return kind(
        "source.toolkit.fluxcd.io",
        "v1",
        "GitRepository",
        "A Flux GitRepository: a Git repository to fetch and watch.",
        spec,
        flux_defs("LocalObjectReference"),
    )


# ----------------------------------------------------------------- secrets.infisical.com/v1alpha1


def infisical_secret() -> Schema:
    scope = obj(
        {
            "envSlug": string(),
            "projectId": string(),
            "projectSlug": string(),
            "recursive": boolean(),
            "secretName": string(),
            "secretsPath": string(),
        },
        "envSlug",
        "secretsPath",
    )
    secret_ref = obj(
        {"secretName": string(), "secretNamespace": string()}, "secretName", "secretNamespace"
    )
    template = obj(
        {
            "data": string_map(),
            "includeAllSecrets": boolean(),
            "metadata": obj({"annotations": string_map(), "labels": string_map()}),
        }
    )
    authentication = obj(
        {
            "awsIamAuth": obj(
                {"identityId": string(), "secretsScope": ref("Scope")}, "identityId", "secretsScope"
            ),
            "azureAuth": obj(
                {"identityId": string(), "resource": string(), "secretsScope": ref("Scope")},
                "identityId",
                "secretsScope",
            ),
            "gcpIamAuth": obj(
                {
                    "identityId": string(),
                    "secretsScope": ref("Scope"),
                    "serviceAccountKeyFilePath": string(),
                },
                "identityId",
                "secretsScope",
                "serviceAccountKeyFilePath",
            ),
            "gcpIdTokenAuth": obj(
                {"identityId": string(), "secretsScope": ref("Scope")}, "identityId", "secretsScope"
            ),
            "kubernetesAuth": obj(
                {
                    "autoCreateServiceAccountToken": boolean(),
                    "identityId": string(),
                    "secretsScope": ref("Scope"),
                    "serviceAccountRef": obj(
                        {"name": string(), "namespace": string()}, "name", "namespace"
                    ),
                    "serviceAccountTokenAudiences": strings(),
                },
                "identityId",
                "secretsScope",
                "serviceAccountRef",
            ),
            "ldapAuth": obj(
                {
                    "credentialsRef": ref("SecretReference"),
                    "identityId": string(),
                    "secretsScope": ref("Scope"),
                },
                "credentialsRef",
                "identityId",
                "secretsScope",
            ),
            "serviceAccount": obj(
                {
                    "environmentName": string(),
                    "projectId": string(),
                    "serviceAccountSecretReference": ref("SecretReference"),
                },
                "environmentName",
                "projectId",
                "serviceAccountSecretReference",
            ),
            "serviceToken": obj(
                {
                    "secretsScope": obj(
                        {"envSlug": string(), "recursive": boolean(), "secretsPath": string()},
                        "envSlug",
                        "secretsPath",
                    ),
                    "serviceTokenSecretReference": ref("SecretReference"),
                },
                "secretsScope",
                "serviceTokenSecretReference",
            ),
            "universalAuth": obj(
                {"credentialsRef": ref("SecretReference"), "secretsScope": ref("Scope")},
                "credentialsRef",
                "secretsScope",
            ),
        }
    )
    managed_secret = obj(
        {
            "creationPolicy": string(),
            "secretName": string(),
            "secretNamespace": string(),
            "secretType": string(),
            "template": ref("Template"),
        },
        "secretName",
        "secretNamespace",
    )
    spec = obj(
        {
            "authentication": authentication,
            "hostAPI": string(),
            "instantUpdates": boolean(),
            "managedKubeConfigMapReferences": array(
                obj(
                    {
                        "configMapName": string(),
                        "configMapNamespace": string(),
                        "creationPolicy": string(),
                        "template": ref("Template"),
                    },
                    "configMapName",
                    "configMapNamespace",
                )
            ),
            "managedKubeSecretReferences": array(ref("ManagedSecret")),
            "managedSecretReference": ref("ManagedSecret"),
            # Deprecated in favour of syncConfig.resyncInterval; the operator defaults it.
            "resyncInterval": integer(),
            "syncConfig": obj({"instantUpdates": boolean(), "resyncInterval": string()}),
            "tls": obj(
                {
                    "caRef": obj(
                        {"key": string(), "secretName": string(), "secretNamespace": string()},
                        "key",
                        "secretName",
                        "secretNamespace",
                    )
                }
            ),
            "tokenSecretReference": ref("SecretReference"),
        }
    )
    defs = {
        "ManagedSecret": managed_secret,
        "Scope": scope,
        "SecretReference": secret_ref,
        "Template": template,
    }
    return kind(
        "secrets.infisical.com",
        "v1alpha1",
        "InfisicalSecret",
        "An InfisicalSecret: secrets synced from Infisical into Kubernetes Secrets.",
        spec,
        defs,
    )


# ----------------------------------------------------------------- kustomize.config.k8s.io


def kustomize_file(version: str, kind_name: str) -> Schema:
    """kustomization.yaml (Kustomization v1beta1, Component v1alpha1): kustomize's types.

    kustomize decodes these files with unknown fields disallowed, so a typo such as
    ``resource:`` is an error in kustomize too.
    """
    selector = obj(
        {
            "group": string(),
            "version": string(),
            "kind": string(),
            "name": string(),
            "namespace": string(),
            "annotationSelector": string(),
            "labelSelector": string(),
        }
    )
    gvk_name = {
        "group": string(),
        "version": string(),
        "kind": string(),
        "name": string(),
        "namespace": string(),
    }
    field_options = obj(
        {
            "create": boolean(),
            "delimiter": string(),
            "encoding": string(),
            "enddelimiter": string(),
            "fullText": string(),
            "index": integer(),
        }
    )
    generator_options = obj(
        {
            "annotations": string_map(),
            "disableNameSuffixHash": boolean(),
            "immutable": boolean(),
            "labels": string_map(),
        }
    )
    generator_args = {
        "ageIdentities": strings(),
        "behavior": enum("create", "replace", "merge"),
        "env": string(),
        "envs": strings(),
        "files": strings(),
        "immutable": boolean(),
        "literals": strings(),
        "name": string(),
        "namespace": string(),
        "options": ref("GeneratorOptions"),
    }
    helm_chart = obj(
        {
            "additionalValuesFiles": strings(),
            "apiVersions": strings(),
            "debug": boolean(),
            "devel": boolean(),
            "digest": string(),
            "includeCRDs": boolean(),
            "kubeVersion": string(),
            "name": string(),
            "nameTemplate": string(),
            "namespace": string(),
            "releaseName": string(),
            "repo": string(),
            "skipHooks": boolean(),
            "skipTests": boolean(),
            "valuesFile": string(),
            "valuesInline": {"type": "object"},
            "valuesMerge": enum("merge", "override", "replace"),
            "version": string(),
        }
    )
    helm_chart_args = obj(
        {
            "chartHome": string(),
            "chartName": string(),
            "chartRepoName": string(),
            "chartRepoUrl": string(),
            "chartVersion": string(),
            "extraArgs": strings(),
            "helmBin": string(),
            "helmHome": string(),
            "releaseName": string(),
            "releaseNamespace": string(),
            "values": string(),
            "valuesLocal": {"type": "object"},
            "valuesMerge": string(),
        }
    )
    replacement = obj(
        {
            "path": string(),
            "source": obj(
                {**gvk_name, "fieldPath": string(), "fullText": string(), "options": field_options}
            ),
            "targets": array(
                obj(
                    {
                        "fieldPaths": strings(),
                        "options": field_options,
                        "reject": array(ref("Selector")),
                        "select": ref("Selector"),
                    },
                    "select",
                )
            ),
        }
    )
    image = obj(
        {
            "digest": string(),
            "name": string(),
            "newName": string(),
            "newTag": string(),
            "tagSuffix": string(),
        }
    )
    field_spec = obj(
        {
            "create": boolean(),
            "group": string(),
            "kind": string(),
            "path": string(),
            "version": string(),
        }
    )
    root_properties: dict[str, Schema] = {
        "apiVersion": {"type": "string", "enum": [f"kustomize.config.k8s.io/{version}"]},
        "kind": {"type": "string", "enum": [kind_name]},
        "metadata": obj(
            {
                "annotations": string_map(),
                "labels": string_map(),
                "name": string(),
                "namespace": string(),
            }
        ),
        "bases": strings(),
        "buildMetadata": array(
            enum("originAnnotations", "transformerAnnotations", "managedByLabel")
        ),
        "commonAnnotations": string_map(),
        "commonLabels": string_map(),
        "components": strings(),
        "configMapGenerator": array(obj(dict(generator_args))),
        "configurations": strings(),
        "crds": strings(),
        "generatorOptions": ref("GeneratorOptions"),
        "generators": strings(),
        "helmChartInflationGenerator": array(helm_chart_args),
        "helmCharts": array(helm_chart),
        "helmGlobals": obj({"chartHome": string(), "configHome": string()}),
        "images": array(ref("Image")),
        "imageTags": array(ref("Image")),
        "inventory": obj(
            {"configMap": obj({"name": string(), "namespace": string()}), "type": string()}
        ),
        "labels": array(
            obj(
                {
                    "fields": array(field_spec),
                    "includeSelectors": boolean(),
                    "includeTemplates": boolean(),
                    "includeVolumeClaimTemplates": boolean(),
                    "pairs": string_map(),
                }
            )
        ),
        "namePrefix": string(),
        "nameSuffix": string(),
        "namespace": string(),
        "openapi": string_map(),
        "patches": array(ref("Patch")),
        "patchesJson6902": array(ref("Patch")),
        "patchesStrategicMerge": strings(),
        "replacements": array(replacement),
        "replicas": array(obj({"count": integer(), "name": string()})),
        "resources": strings(),
        "secretGenerator": array(obj({**generator_args, "type": string()})),
        "sortOptions": obj(
            {
                "legacySortOptions": obj({"orderFirst": strings(), "orderLast": strings()}),
                "order": enum("legacy", "fifo"),
            }
        ),
        "transformers": strings(),
        "validators": strings(),
        "vars": array(
            obj(
                {
                    "fieldref": obj({"fieldPath": string()}),
                    "name": string(),
                    "objref": obj(
                        {
                            "apiVersion": string(),
                            "group": string(),
                            "kind": string(),
                            "name": string(),
                            "namespace": string(),
                            "version": string(),
                        },
                        "name",
                    ),
                },
                "name",
                "objref",
            )
        ),
    }
    defs = {
        "GeneratorOptions": generator_options,
        "Image": image,
        "Patch": obj(
            {
                "options": obj({"allowKindChange": boolean(), "allowNameChange": boolean()}),
                "patch": string(),
                "path": string(),
                "target": ref("Selector"),
            }
        ),
        "Selector": selector,
    }
    description = (
        "A kustomize Kustomization (kustomization.yaml)."
        if kind_name == "Kustomization"
        else "A kustomize Component (kustomization.yaml of kind Component)."
    )
    return {
        "$schema": DIALECT,
        "description": description,
        "type": "object",
        "properties": root_properties,
        "additionalProperties": False,
        "x-kubernetes-group-version-kind": [
            {"group": "kustomize.config.k8s.io", "kind": kind_name, "version": version}
        ],
        "$defs": dict(sorted(defs.items())),
    }


# ----------------------------------------------------------------- output


def all_schemas() -> dict[str, Schema]:
    """File name -> schema, for every schema homelab-kit ships."""
    return {
        "kustomize.toolkit.fluxcd.io_kustomization_v1.json": flux_kustomization(),
        "helm.toolkit.fluxcd.io_helmrelease_v2.json": helm_release(),
        "source.toolkit.fluxcd.io_ocirepository_v1.json": oci_repository("v1"),
        "source.toolkit.fluxcd.io_ocirepository_v1beta2.json": oci_repository("v1beta2"),
        "source.toolkit.fluxcd.io_helmrepository_v1.json": helm_repository(),
        "source.toolkit.fluxcd.io_gitrepository_v1.json": git_repository(),
        "secrets.infisical.com_infisicalsecret_v1alpha1.json": infisical_secret(),
        "kustomize.config.k8s.io_kustomization_v1beta1.json": kustomize_file(
            "v1beta1", "Kustomization"
        ),
        "kustomize.config.k8s.io_component_v1alpha1.json": kustomize_file("v1alpha1", "Component"),
    }


def render(schema: Schema) -> str:
    """The exact text a schema file holds."""
    return json.dumps(schema, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write every schema next to this module; ``--check`` only compares."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(__file__).parent
    stale = []
    for name, schema in all_schemas().items():
        target = folder / name
        text = render(schema)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            stale.append(name)
            if "--check" not in args:
                target.write_text(text, encoding="utf-8")
    for name in stale:
        print(("stale: " if "--check" in args else "wrote: ") + name)
    return 1 if stale and "--check" in args else 0


if __name__ == "__main__":
    raise SystemExit(main())
