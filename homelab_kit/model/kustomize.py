"""kustomization.yaml files and every file they pull in, resolved on disk."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

import attrs

from homelab_kit.location import Location
from homelab_kit.model.base import DocumentRef, as_list, as_mapping, doc_field, source_field

KUSTOMIZATION_FILENAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@attrs.frozen
class KustomizeEntry:
    """One path a kustomization names, resolved relative to its directory.

    ``target`` is the repository-relative path (``None`` for remote references);
    ``status`` is ``file``, ``dir``, ``missing``, ``outside`` (leaves the
    repository) or ``remote`` (a URL, never fetched).
    """

    field: str
    value: str
    target: str | None
    status: str
    source: Location = source_field()


@attrs.frozen
class Generator:
    """A configMapGenerator or secretGenerator entry.

    Only names and file paths are kept: ``literal_keys`` lists literal keys, never
    their values (a secretGenerator literal is a secret).
    """

    kind: str  # ConfigMap or Secret
    name: str
    namespace: str | None
    behavior: str
    files: tuple[KustomizeEntry, ...]
    file_keys: tuple[str, ...]
    envs: tuple[KustomizeEntry, ...]
    literal_keys: tuple[str, ...]
    disable_name_suffix_hash: bool
    source: Location = source_field()


@attrs.frozen
class KustomizeFile:
    """A kustomization.yaml (``Kustomization`` or ``Component``) and its entries."""

    path: str
    directory: str
    kind: str
    namespace: str | None
    resources: tuple[KustomizeEntry, ...]
    components: tuple[KustomizeEntry, ...]
    generators: tuple[Generator, ...]
    patch_files: tuple[KustomizeEntry, ...]
    configurations: tuple[KustomizeEntry, ...]
    inline_patches: tuple[Mapping[str, Any], ...] = attrs.field(repr=False)
    source: Location = source_field()
    doc: DocumentRef = doc_field()

    @classmethod
    def from_doc(cls, doc: DocumentRef, exists: Any) -> KustomizeFile:
        """Build from the document; ``exists(path) -> "file" | "dir" | None``."""
        directory = posixpath.dirname(doc.path)

        def entry(fld: str, value: Any, *path: str | int) -> KustomizeEntry | None:
            if not isinstance(value, str):
                return None
            return resolve_entry(fld, value, directory, exists, doc.location(*path))

        def entries(fld: str) -> tuple[KustomizeEntry, ...]:
            return tuple(e for i, v in enumerate(doc.list_at(fld)) if (e := entry(fld, v, fld, i)))

        generators: list[Generator] = []
        options = doc.map_at("generatorOptions")
        for fld, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
            for i, gen in enumerate(doc.list_at(fld)):
                if not isinstance(gen, Mapping):
                    continue
                files = []
                keys = []
                for j, f in enumerate(as_list(gen.get("files"))):
                    if isinstance(f, str):
                        key, _, file_path = f.rpartition("=")
                        keys.append(key or posixpath.basename(file_path))
                        e = resolve_entry(
                            "files", file_path, directory, exists, doc.location(fld, i, "files", j)
                        )
                        files.append(e)
                envs = []
                for j, f in enumerate(as_list(gen.get("envs"))):
                    if isinstance(f, str):
                        envs.append(
                            resolve_entry(
                                "envs", f, directory, exists, doc.location(fld, i, "envs", j)
                            )
                        )
                literals = tuple(
                    str(lit).split("=", 1)[0] for lit in as_list(gen.get("literals")) if lit
                )
                gen_opts = as_mapping(gen.get("options"))
                disable = gen_opts.get(
                    "disableNameSuffixHash", options.get("disableNameSuffixHash")
                )
                generators.append(
                    Generator(
                        kind=kind,
                        name=str(gen.get("name", "")),
                        namespace=gen.get("namespace")
                        if isinstance(gen.get("namespace"), str)
                        else None,
                        behavior=str(gen.get("behavior", "create")),
                        files=tuple(files),
                        file_keys=tuple(keys),
                        envs=tuple(envs),
                        literal_keys=literals,
                        disable_name_suffix_hash=disable is True,
                        source=doc.location(fld, i),
                    )
                )
        patch_files: list[KustomizeEntry] = []
        inline: list[Mapping[str, Any]] = []
        for i, p in enumerate(doc.list_at("patches")):
            if isinstance(p, Mapping) and isinstance(p.get("path"), str):
                found = entry("patches", p["path"], "patches", i, "path")
                if found:
                    patch_files.append(found)
            elif isinstance(p, Mapping):
                inline.append(p)
        for fld in ("patchesStrategicMerge", "patchesJson6902"):
            for i, p in enumerate(doc.list_at(fld)):
                value = p.get("path") if isinstance(p, Mapping) else p
                if isinstance(value, str) and "\n" not in value:
                    found = entry(fld, value, fld, i)
                    if found:
                        patch_files.append(found)
        ns = doc.get("namespace")
        return cls(
            path=doc.path,
            directory=directory,
            kind=doc.kind or "Kustomization",
            namespace=ns if isinstance(ns, str) else None,
            resources=entries("resources") + entries("bases") + entries("crds"),
            components=entries("components"),
            generators=tuple(generators),
            patch_files=tuple(patch_files),
            configurations=entries("configurations"),
            inline_patches=tuple(inline),
            source=doc.location(),
            doc=doc,
        )

    @property
    def is_component(self) -> bool:
        return self.kind == "Component"

    def all_entries(self) -> tuple[KustomizeEntry, ...]:
        """Every local path this kustomization names."""
        out: list[KustomizeEntry] = [*self.resources, *self.components, *self.patch_files]
        out += self.configurations
        for gen in self.generators:
            out += gen.files
            out += gen.envs
        return tuple(out)


def is_remote(value: str) -> bool:
    """A kustomize reference to a URL or git repository (never fetched)."""
    return "://" in value or value.startswith(("github.com/", "git@", "gitlab.com/"))


def resolve_entry(
    field: str, value: str, directory: str, exists: Any, source: Location
) -> KustomizeEntry:
    """Resolve ``value`` (relative to ``directory``) to a repository path."""
    if is_remote(value):
        return KustomizeEntry(field, value, None, "remote", source)
    if value.startswith("/"):
        return KustomizeEntry(field, value, None, "outside", source)
    target = posixpath.normpath(posixpath.join(directory, value))
    if target == ".." or target.startswith("../"):
        return KustomizeEntry(field, value, target, "outside", source)
    if target == ".":
        target = ""
    status = exists(target) or "missing"
    return KustomizeEntry(field, value, target, status, source)
