"""Typed, immutable models of a homelab repository."""

from homelab_kit.model.base import DocumentRef, ObjectKey
from homelab_kit.model.flux import (
    ChartSpec,
    FluxKustomization,
    GitRepository,
    HelmRelease,
    HelmRepository,
    NamespacedRef,
    OCIRepository,
    SourceReference,
    SubstituteFrom,
    ValuesReference,
)
from homelab_kit.model.graph import DependencyGraph
from homelab_kit.model.helm import ValuesSource
from homelab_kit.model.kustomize import Generator, KustomizeEntry, KustomizeFile
from homelab_kit.model.loader import LoadOptions, find_root, load
from homelab_kit.model.repo import App, Namespace, Repo, SkippedFile
from homelab_kit.model.secrets import (
    ExternalSecret,
    InfisicalSecret,
    ManagedSecret,
    Secret,
    SecretConsumer,
    SopsFile,
)
from homelab_kit.model.talos import TalosConfig, TalosNode
from homelab_kit.model.workloads import Container, ImageRef, Resources, SecurityContext, Workload

__all__ = [
    "App",
    "ChartSpec",
    "Container",
    "DependencyGraph",
    "DocumentRef",
    "ExternalSecret",
    "FluxKustomization",
    "Generator",
    "GitRepository",
    "HelmRelease",
    "HelmRepository",
    "ImageRef",
    "InfisicalSecret",
    "KustomizeEntry",
    "KustomizeFile",
    "LoadOptions",
    "ManagedSecret",
    "Namespace",
    "NamespacedRef",
    "OCIRepository",
    "ObjectKey",
    "Repo",
    "Resources",
    "Secret",
    "SecretConsumer",
    "SecurityContext",
    "SkippedFile",
    "SopsFile",
    "SourceReference",
    "SubstituteFrom",
    "TalosConfig",
    "TalosNode",
    "ValuesReference",
    "ValuesSource",
    "Workload",
    "find_root",
    "load",
]
