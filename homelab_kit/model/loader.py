"""Load a repository from disk into a :class:`Repo`.

Every file is read and parsed once.  Nothing from the repository is executed: YAML
tags are kept as data, templates are skipped, kustomize references are resolved as
paths only.
"""

from __future__ import annotations

import errno
import math
import os
import posixpath
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from homelab_kit.gcpause import paused_gc as paused_gc  # re-exported: lint, diff
from homelab_kit.gitignore import IgnoreSpec, ignore_spec
from homelab_kit.location import Location
from homelab_kit.model.base import DocumentRef
from homelab_kit.model.flux import (
    HELM_GROUP,
    KUSTOMIZE_GROUP,
    SOURCE_GROUP,
    FluxKustomization,
    GitRepository,
    HelmRelease,
    HelmRepository,
    OCIRepository,
    reads_this_repository,
)
from homelab_kit.model.helm import ValuesSource
from homelab_kit.model.kustomize import KUSTOMIZATION_FILENAMES, KustomizeFile
from homelab_kit.model.repo import App, KsKey, Namespace, Repo, Settings, SkippedFile
from homelab_kit.model.secrets import (
    EXTERNAL_SECRETS_GROUP,
    INFISICAL_GROUP,
    ExternalSecret,
    InfisicalSecret,
    Secret,
    SecretConsumer,
    SopsFile,
    is_sops_document,
)
from homelab_kit.model.talos import TalosConfig
from homelab_kit.model.workloads import WORKLOAD_KINDS, Workload, pod_secret_consumers
from homelab_kit.root import DEFAULT_INCLUDE as DEFAULT_INCLUDE  # re-exported
from homelab_kit.root import ROOT_MARKERS as ROOT_MARKERS  # re-exported
from homelab_kit.root import find_root as find_root  # re-exported
from homelab_kit.yaml import YamlFile
from homelab_kit.yaml.batch import ParseBatch, can_fork
from homelab_kit.yaml.reader import (
    DEFAULT_MAX_ALIAS_NODES,
    DEFAULT_MAX_FILE_SIZE,
    YamlProblem,
)

if TYPE_CHECKING:
    from homelab_kit.cache import Cache

YAML_SUFFIXES = (".yaml", ".yml")
TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tmpl", ".tpl", ".gotmpl")
SKIP_DIRS = frozenset((".git", ".venv", "node_modules", "__pycache__", ".terraform"))


@attrs.frozen
class LoadOptions:
    """How to read a repository.

    ``include`` are the folders (relative to the root) that are read; the default
    is kubernetes/, talos/ and bootstrap/ where they exist, else the whole root.
    ``jobs`` is how many processes parse: 1 this one alone, N that many, 0 one per
    CPU when the repository is large enough to gain (:func:`parse_jobs`).
    ``respect_gitignore``: files the repository's ``.gitignore`` files ignore are not
    read (as git would not commit them).
    ``max_alias_nodes`` bounds the nodes that alias expansion adds over the whole
    run (:func:`spend_alias_budget`).
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    apps_root: str = "kubernetes/apps"
    talos_dir: str = "talos"
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    max_alias_nodes: int = DEFAULT_MAX_ALIAS_NODES
    jobs: int = 1
    settings: Settings = Settings()
    respect_gitignore: bool = True


# --------------------------------------------------------------------------- discovery


@attrs.frozen
class _Tree:
    yaml_files: tuple[str, ...]
    files: frozenset[str]
    dirs: frozenset[str]
    skipped: tuple[SkippedFile, ...]
    # YAML files that are symbolic links never read (loops, broken, leaving the repo)
    unreadable: Mapping[str, str] = attrs.field(factory=dict)


def _chart_dir(rel_dir: str, files: frozenset[str]) -> bool:
    """Whether ``rel_dir`` lies in the templates/ folder of a Helm chart."""
    parts = rel_dir.split("/")
    for i, part in enumerate(parts):
        if part == "templates":
            chart = "/".join(parts[:i])
            if f"{chart}/Chart.yaml" in files or f"{chart}/Chart.yml" in files:
                return True
    return False


def _discover(root: Path, options: LoadOptions) -> _Tree:
    include = options.include or tuple(d for d in DEFAULT_INCLUDE if (root / d).is_dir()) or (".",)
    excluded = ignore_spec(options.exclude) if options.exclude else None
    yaml_files: list[str] = []
    files: set[str] = set()
    dirs: set[str] = {""}
    skipped: list[SkippedFile] = []
    unreadable: dict[str, str] = {}
    root_real = os.path.realpath(root)
    seen_real: set[str] = set()
    for top in include:
        top_path = root / top
        if not top_path.exists():
            continue
        rel_top = os.path.relpath(top_path, root).replace(os.sep, "/")
        # os.walk(top, followlinks=False), depth first in name order, with scandir's
        # entries kept: is_symlink() needs no system call, and the real path of a
        # folder is its parent's plus its name (symbolic links are not descended).
        ignores = _gitignores(root, rel_top) if options.respect_gitignore else ()
        stack: list[tuple[str, str, str | None, _Ignores]] = [
            (str(top_path), "" if rel_top == "." else rel_top, None, ignores)
        ]
        while stack:
            dirpath, rel_dir, real, ignores = stack.pop()
            real = real or os.path.realpath(dirpath)
            if real in seen_real:
                continue
            seen_real.add(real)
            try:
                with os.scandir(dirpath) as listing:
                    entries = list(listing)
            except OSError:
                continue
            subdirs: dict[str, os.DirEntry[str]] = {}
            plain: dict[str, os.DirEntry[str]] = {}
            for entry in entries:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                (subdirs if is_dir else plain)[entry.name] = entry
            if options.respect_gitignore and ".gitignore" in plain and dirpath != str(top_path):
                ignores = (*ignores, *_gitignore_at(dirpath, rel_dir))
            dirnames = sorted(
                d
                for d in subdirs
                if d not in SKIP_DIRS
                and not (d.startswith(".") and d not in (".github",))
                and not (excluded and excluded.match_file(_join(rel_dir, d) + "/"))
                and not _git_ignored(_join(rel_dir, d) + "/", ignores)
            )
            for d in dirnames:
                dirs.add(_join(rel_dir, d))
            prefix = f"{rel_dir}/" if rel_dir else ""
            for name in sorted(plain):
                rel = prefix + name
                if (excluded and excluded.match_file(rel)) or (
                    ignores and _git_ignored(rel, ignores)
                ):
                    continue
                files.add(rel)
                lower = name.lower()
                if plain[name].is_symlink():
                    reason = _bad_link(os.path.join(dirpath, name), root_real)
                    if reason is not None:
                        skipped.append(SkippedFile(rel, reason))
                        if lower.endswith(YAML_SUFFIXES):  # reported: no check looked at it
                            unreadable[rel] = reason
                            yaml_files.append(rel)
                        continue
                if lower.endswith(YAML_SUFFIXES):
                    yaml_files.append(rel)
                elif any(lower.endswith(s) for s in TEMPLATE_SUFFIXES):
                    skipped.append(SkippedFile(rel, "template (not YAML until rendered)"))
            for d in reversed(dirnames):
                if not subdirs[d].is_symlink():
                    stack.append(
                        (
                            os.path.join(dirpath, d),
                            _join(rel_dir, d),
                            os.path.join(real, d),
                            ignores,
                        )
                    )
    frozen_files = frozenset(files)
    kept: list[str] = []
    in_chart: dict[str, bool] = {}  # by folder
    for rel in yaml_files:
        folder = rel.rpartition("/")[0]
        found = in_chart.get(folder)
        if found is None:
            found = in_chart[folder] = "templates" in folder and _chart_dir(folder, frozen_files)
        if found:
            skipped.append(SkippedFile(rel, "Helm chart template (Go template, not YAML)"))
        else:
            kept.append(rel)
    return _Tree(tuple(kept), frozen_files, frozenset(dirs), tuple(skipped), unreadable)


# (folder the .gitignore sits in, relative to the root; its compiled patterns)
_Ignores = tuple[tuple[str, IgnoreSpec], ...]


def _gitignore_at(folder: str, rel_dir: str) -> _Ignores:
    """The patterns of ``folder``'s .gitignore (none when it cannot be read)."""
    try:
        with open(os.path.join(folder, ".gitignore"), encoding="utf-8", errors="replace") as f:
            return ((rel_dir, ignore_spec(f)),)
    except OSError:
        return ()


def _gitignores(root: Path, rel_top: str) -> _Ignores:
    """The .gitignore files of the root and of the folders down to ``rel_top``."""
    found = _gitignore_at(str(root), "")
    parts = [] if rel_top in (".", "") else rel_top.split("/")
    for depth in range(1, len(parts) + 1):
        rel = "/".join(parts[:depth])
        found += _gitignore_at(str(root / rel), rel)
    return found


def _git_ignored(rel: str, ignores: _Ignores) -> bool:
    """Whether ``rel`` (a folder ends with ``/``) is ignored by one of ``ignores``."""
    for base, spec in ignores:
        if base and not rel.startswith(base + "/"):
            continue
        if spec.match_file(rel[len(base) + 1 :] if base else rel):
            return True
    return False


def _bad_link(full: str, root_real: str) -> str | None:
    """Why the symbolic link ``full`` is not read, or None when it may be."""
    target = os.path.realpath(full)
    if not (target == root_real or target.startswith(root_real + os.sep)):
        return "symbolic link leaving the repository"
    try:
        os.stat(full)
    except OSError as exc:
        return "symbolic link loop" if exc.errno == errno.ELOOP else "broken symbolic link"
    return None


def _join(a: str, b: str) -> str:
    return f"{a}/{b}" if a else b


# Files; below this, starting processes costs more than it saves (docs/performance.md).
PARALLEL_THRESHOLD = 2000
_CHUNK = 100  # files a process parses at a time, at most

Progress = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)``: ``("parse", files, files)``, ``("check", ...)``."""


def available_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def spare_cpus(
    cpus: int | None = None, load: float | None = None, host_cpus: int | None = None
) -> int:
    """The CPUs this run may keep busy: those available, less what others use.

    Others' use is the 1-minute load average less this process's own share (up to
    one CPU: the previous lint's) and half a CPU of margin (on 2 CPUs: 2 below a
    load of 1.5, else 1): on an idle machine, or right after the previous lint,
    every CPU; when other work keeps them busy (a CI runner's other jobs, a
    test suite), one, since extra processes then only add copying and contention
    (docs/performance.md, "Processes: --jobs").  Confined to some of the host's
    ``host_cpus`` (a container, an affinity mask), the host's load average is
    taken in proportion.
    """
    cpus = available_cpus() if cpus is None else cpus
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # pragma: no cover - no load average here
            return cpus
    host = (os.cpu_count() or cpus) if host_cpus is None else host_cpus
    if host > cpus:  # a container's share of the host: the load average is the host's
        load = load * cpus / host
    # Below 1.5 on 2 CPUs, 2: the previous lint alone keeps the average near 1.
    return max(1, min(cpus, math.ceil(cpus + 0.5 - load)))


def parse_jobs(requested: int, files: int) -> int:
    """How many processes parse ``files`` files.

    ``requested`` > 0 is taken as it is; 0 (auto) means one per spare CPU
    (:func:`spare_cpus`) when there are at least :data:`PARALLEL_THRESHOLD` files,
    else one.
    """
    if requested > 0:
        return requested
    return spare_cpus() if files >= PARALLEL_THRESHOLD else 1


# Check processes ``--jobs 0`` starts at most: each copies much of the model it
# reads (reference counts), so more than two was never measured to gain.
AUTO_CHECK_PROCESSES = 2


def check_jobs(requested: int, files: int) -> int:
    """How many processes run the checks of a repository of ``files`` files.

    ``requested`` > 0 is taken as it is; 0 (auto) means two when there are at least
    :data:`PARALLEL_THRESHOLD` files and two CPUs are spare, else one.
    """
    if requested > 0:
        return requested
    if files < PARALLEL_THRESHOLD:
        return 1
    return min(AUTO_CHECK_PROCESSES, spare_cpus())


def _chunk_size(files: int, processes: int) -> int:
    """Files per chunk: about four chunks per process, at most :data:`_CHUNK`."""
    return max(1, min(_CHUNK, -(-files // (processes * 4))))


def _parse_all(
    root: Path,
    paths: Sequence[str],
    options: LoadOptions,
    progress: Progress | None = None,
    early: EarlyModels | None = None,
) -> dict[str, YamlFile]:
    """Parse ``paths``, spread over processes when asked (``options.jobs``) or worth it.

    This process parses too: forked workers take chunks from the front, this one
    from the back (:class:`~homelab_kit.yaml.batch.ParseBatch`); where fork is
    unavailable, parsing stays in-process.  A batch :func:`start_parsing` began
    for these very files is taken over.  With workers, ``early`` models the files
    as they arrive (:class:`EarlyModels`).
    """
    paths = parse_order(paths)
    batch = _take_started(root, paths, options)
    if batch is None:
        jobs = parse_jobs(options.jobs, len(paths))
        batch = ParseBatch.start(
            str(root), paths, options.max_file_size, jobs, _chunk_size(len(paths), jobs)
        )
    report = None if progress is None else partial(progress, "parse")
    return batch.result(report, early.add if early is not None and batch.workers else None)


# A parse begun before the loader was asked (:func:`start_parsing`): the key it was
# begun for (root, discovery and parse options), the tree found, the batch.
_started: list[tuple[tuple[Any, ...], _Tree, ParseBatch | None]] = []


def _start_key(root: Path, options: LoadOptions) -> tuple[Any, ...]:
    """What a started parse must have been started for to be taken over: the root and
    every option but the settings (which discovery and parsing do not read)."""
    return (str(root), attrs.evolve(options, settings=_NO_SETTINGS))


_NO_SETTINGS = Settings()


def start_parsing(path: str | os.PathLike[str], options: LoadOptions) -> None:
    """Discover the repository at ``path`` and start its parse in forked workers now,
    for the next :func:`load` of it with the same options and no cache to take over.

    A command calls this as soon as it knows what to read, so that the workers parse
    while it goes on importing plugins and configuring.  Where the parse would stay
    in one process, only the discovery is done (and kept).  A parse no load took over
    is ended by the next call, or with its workers when it is garbage.
    """
    root = find_root(path)
    key = _start_key(root, options)
    if _started and _started[0][0] == key:
        return  # already started
    cancel_started()
    tree = _discover(root, options)
    paths = parse_order([rel for rel in tree.yaml_files if rel not in tree.unreadable])
    jobs = parse_jobs(options.jobs, len(paths))
    batch = None
    if jobs > 1 and can_fork():
        import atexit

        size = _chunk_size(len(paths), jobs)
        batch = ParseBatch.start(str(root), paths, options.max_file_size, jobs, size)
        atexit.unregister(cancel_started)  # registered once
        atexit.register(cancel_started)
    _started.append((key, tree, batch))


def cancel_started() -> None:
    """End the workers of a parse :func:`start_parsing` began and no load took over."""
    while _started:
        batch = _started.pop()[2]
        if batch is not None:
            batch.cancel()


def _started_tree(root: Path, options: LoadOptions) -> _Tree | None:
    """The tree a started parse found, when it was started for ``root`` and ``options``."""
    if _started and _started[0][0] == _start_key(root, options):
        return _started[0][1]
    cancel_started()
    return None


def _take_started(root: Path, paths: Sequence[str], options: LoadOptions) -> ParseBatch | None:
    """The started parse, when it parses exactly ``paths`` of ``root`` as ``options`` ask."""
    if not _started:
        return None
    key, _tree, batch = _started.pop()
    if batch is not None and (key != _start_key(root, options) or batch.paths != tuple(paths)):
        batch.cancel()
        return None
    return batch


# --------------------------------------------------------------------------- building


def load(
    path: str | os.PathLike[str] = ".",
    options: LoadOptions | None = None,
    *,
    kinds: Iterable[type] = (),
    cache: Cache | None = None,
    progress: Progress | None = None,
) -> Repo:
    """Load the homelab repository at or above ``path``.

    :param path: any folder (or file) inside the repository.
    :param options: what to read; defaults read kubernetes/, talos/ and bootstrap/.
    :param kinds: extra model classes (``API_GROUP``, ``KIND``, ``from_doc``).
    :param cache: a :class:`homelab_kit.cache.Cache` of parsed files, or None.
    :param progress: called as files are parsed (``progress("parse", done, total)``).
    :returns: the immutable :class:`Repo`.
    :raises RepoNotFoundError: when no repository is found.
    """
    with paused_gc():
        return _load(path, options or LoadOptions(), kinds, cache, progress)


def _load(
    path: str | os.PathLike[str],
    options: LoadOptions,
    kinds: Iterable[type],
    cache: Cache | None,
    progress: Progress | None,
) -> Repo:
    root = find_root(path)
    if cache is not None:  # a started parse cannot have asked the cache
        cancel_started()
    tree = (_started_tree(root, options) if cache is None else None) or _discover(root, options)
    files: dict[str, YamlFile] = {}
    to_parse: list[str] = []
    stats: dict[str, os.stat_result] = {}
    for rel in tree.yaml_files:
        reason = tree.unreadable.get(rel)
        if reason is not None:
            files[rel] = YamlFile(rel, (), (YamlProblem("unreadable", f"{reason}; not read"),))
            continue
        if cache is not None:
            try:
                stats[rel] = os.stat(os.path.join(root, rel))
            except OSError:
                to_parse.append(rel)
                continue
            cached = cache.get(rel, stats[rel])
            if cached is not None:
                files[rel] = cached
                continue
        to_parse.append(rel)
    early = EarlyModels(root, tree, to_parse) if cache is None else None
    fresh = _parse_all(root, to_parse, options, progress, early)
    files.update(fresh)
    if cache is not None:
        for rel, parsed in fresh.items():
            if rel in stats:
                cache.put(rel, stats[rel], parsed)
    files = spend_alias_budget({rel: files[rel] for rel in tree.yaml_files}, options)
    if cache is None:
        return build_repo(root, tree, files, options, kinds, early=early)
    memo = ModelMemo({rel: cache.models(rel, yfile) for rel, yfile in files.items()})
    repo = build_repo(root, tree, files, options, kinds, memo=memo)
    for rel, yfile in files.items():
        cache.keep_models(rel, yfile, memo.new.get(rel, {}), changed=rel in memo.rebuilt)
    cache.save()
    return repo


def spend_alias_budget(files: Mapping[str, YamlFile], options: LoadOptions) -> dict[str, YamlFile]:
    """``files``, with those that alias expansion takes past the run's budget emptied.

    Each file is bounded on its own as it is read (Go's rule); this bounds the sum,
    which is what every check walks: thousands of files, each just within its own
    bound, must not keep a run busy for minutes.  Files are taken in path order, so
    the same files are dropped whichever process parsed them; a dropped file keeps
    its text facts and gets an ``alias-bomb`` problem at its first used anchor.
    """
    spent = 0
    kept: dict[str, YamlFile] = {}
    for rel, yfile in files.items():
        if yfile.alias_nodes and spent + yfile.alias_nodes > options.max_alias_nodes:
            line, column = next(
                ((a.line, a.column) for d in yfile.documents for a in d.anchors if a.uses),
                (0, 0),
            )
            message = (
                f"its aliases expand to {yfile.alias_nodes:,} nodes, past what is left of "
                f"the run's budget of {options.max_alias_nodes:,} nodes from aliases; skipped"
            )
            problem = YamlProblem("alias-bomb", message, line, column)
            yfile = attrs.evolve(
                yfile, documents=(), problems=(*yfile.problems, problem), alias_nodes=0
            )
        spent += yfile.alias_nodes
        kept[rel] = yfile
    return kept


class ModelMemo:
    """The models built from each file, to be reused by the next load of the repository.

    ``old`` holds, per file, what a previous load built from that very parse (the
    cache keeps it beside the parse); :meth:`get` answers from it when the key,
    which names everything else the model depended on (the namespace the file lands
    in, ...), is the same, else builds.  ``new`` is what this load used, per file, and
    ``rebuilt`` the files it built anything for.  Models hold nothing of another
    file, so a file's table is kept (and pickled) with its parse alone.
    """

    def __init__(
        self,
        old: Mapping[str, Mapping[Any, Any]] | None = None,
        keep: bool = True,
        trusted: bool = False,
    ) -> None:
        self.old: Mapping[str, Mapping[Any, Any]] = old or {}
        self.new: dict[str, dict[Any, Any]] = {}
        self.rebuilt: set[str] = set()
        self.keep = keep  # False: a load without the cache, which builds everything once
        # ``old`` was built in this very run (EarlyModels): the kustomization files in
        # it asked about paths that cannot have changed since.
        self.trusted = trusted

    def get(self, rel: str, key: Any, build: Callable[..., Any], *args: Any) -> Any:
        """The model of ``rel`` under ``key``: kept, else ``build(*args)``."""
        old = self.old.get(rel)
        if old is not None and key in old:
            value = old[key]
        else:
            value = build(*args)
            if self.keep:
                self.rebuilt.add(rel)
        if self.keep:
            table = self.new.get(rel)
            if table is None:
                table = self.new[rel] = {}
            table[key] = value
        return value


_SLICE = 200  # files modelled per chunk arrived, beyond the chunk's own


class EarlyModels:
    """The model built file by file while the parse goes on, for :func:`build_repo`.

    The parse hands each chunk of files to :meth:`add` as it arrives (in this
    process, between the chunks it parses itself: a forked worker meanwhile takes
    more of the parse, so the model costs half its time).  Every file's document
    references, SOPS look and kustomization come at once.  The objects' models need
    the namespace each file lands in, from the walk of the Flux Kustomizations
    through kustomize, which needs every kustomization file and every Flux
    Kustomization: the files named for them are parsed first, by this process
    (:func:`parse_order` puts them at the back, where it claims chunks), the walk
    runs when they are all in, and the objects of the files that arrived before it
    and after it are modelled then, with their releases' values.

    What is built is kept as :class:`ModelMemo` tables under the keys
    :func:`build_repo` asks for, which name everything a model depends on, so that
    :func:`build_repo` builds the same repository whatever was built here; the walk
    is taken only if it read exactly the Flux Kustomizations and kustomization files
    the whole repository has (a Flux Kustomization in a file not named for one, or a
    file the alias budget emptied, and it is walked again at the end).
    """

    def __init__(self, root: Path, tree: _Tree, paths: Iterable[str]) -> None:
        self.root = root
        self.tree = tree
        self.memo = ModelMemo()  # keep: its new tables are build_repo's old ones
        self.exists = _Exists(root, tree)  # for the kustomization files
        self.files: dict[str, YamlFile] = {}
        self.refs: dict[str, tuple[DocumentRef, ...]] = {}
        self.kfiles: dict[str, KustomizeFile] = {}
        self.position = {rel: i for i, rel in enumerate(tree.yaml_files)}
        self.awaited = {rel for rel in paths if _parsed_first(rel)}
        self.waiting: deque[str] = deque()  # arrived, objects not modelled yet
        # After the walk: what it read and found, the kustomization files by folder,
        # the files that are not objects, and releases waiting for a values file.
        self.walk: tuple[list[DocumentRef], dict[str, KustomizeFile], _Walk, _Exists] | None
        self.walk = None
        self.kustomize_files: dict[str, KustomizeFile] = {}
        self.not_objects: set[str] = set()
        self.values_wanted: dict[str, list[HelmRelease]] = {}
        self.walked: set[str] = set()  # the files the walk read
        self.stale = False  # a Flux Kustomization came after the walk

    def add(self, parsed: Iterable[YamlFile]) -> None:
        """Build what can be built from these newly parsed files."""
        memo, exists = self.memo, self.exists
        arrived = []
        for yfile in parsed:
            rel = yfile.path
            if rel in self.files or rel not in self.position:
                continue
            self.files[rel] = yfile
            refs = self.refs[rel] = memo.get(rel, "refs", _refs, rel, yfile)
            memo.get(rel, "sops", _sops_file, rel, yfile)
            if refs and _basename(rel) in KUSTOMIZATION_FILENAMES:
                kfile = _kustomize_doc(memo, refs, exists)
                if kfile is not None:
                    self.kfiles[rel] = kfile
            self.awaited.discard(rel)
            arrived.append(rel)
        if self.stale:
            return
        self.waiting.extend(arrived)
        if self.walk is None:
            if self.awaited:
                return
            self._walk()
        # The files that came before the walk a slice at a time: meanwhile the
        # workers' chunks wait in pipes of a few chunks each.
        self._model_waiting(len(arrived) + _SLICE)

    def finish(self) -> None:
        """Model what still waits (the parse is over)."""
        if self.walk is not None and not self.stale:
            self._model_waiting(len(self.waiting))

    def _model_waiting(self, count: int) -> None:
        waiting = self.waiting
        for _ in range(min(len(waiting), count)):
            rel = waiting.popleft()
            self._objects(rel)
            for hr in self.values_wanted.pop(rel, ()):
                self._values_file(hr, rel)

    def _walk(self) -> None:
        kustomize_files = self.kustomize_files
        for rel in sorted(self.kfiles, key=self.position.__getitem__):
            kfile = self.kfiles[rel]
            kustomize_files[kfile.directory] = kfile
        self.not_objects = _not_objects(kustomize_files)
        ks_docs = _flux_kustomizations(
            {
                rel: self.refs[rel]
                for rel in sorted(self.files, key=self.position.__getitem__)
                if rel not in self.not_objects
            }
        )
        exists = _Exists(self.root, self.tree)
        found = _walk_deployments(ks_docs, kustomize_files, self.tree, exists)
        self.walk = (ks_docs, dict(kustomize_files), found, exists)
        self.walked = set(self.files)

    def _objects(self, rel: str) -> None:
        """The models of the objects in ``rel``, and its releases' values."""
        if rel in self.not_objects or not self.refs[rel]:
            return
        assert self.walk is not None
        ns = self.walk[2][0].get(rel)
        for doc in self.refs[rel]:
            modelled = self.memo.get(rel, ("doc", doc.index, ns), _model, doc, ns)
            if modelled is None:
                continue
            if modelled[0] == "ks" and rel not in self.walked:
                self.stale = True  # the walk did not see it: build_repo walks again
                return
            if modelled[0] == "hr":
                self._values(modelled[1])

    def _values(self, hr: HelmRelease) -> None:
        """The inline values of ``hr`` and those of its values files already parsed;
        it waits for the others."""
        memo = self.memo
        if hr.values:
            key = ("inline-values", hr.doc.index, hr.name, hr.namespace)
            memo.get(hr.doc.path, key, _inline_values, hr)
        for levels in _values_files(hr, self.kustomize_files):
            for targets in levels:
                for target in targets:
                    if target in self.files:
                        self._values_file(hr, target)
                    else:
                        self.values_wanted.setdefault(target, []).append(hr)

    def _values_file(self, hr: HelmRelease, target: str) -> None:
        yfile = self.files[target]
        if _is_values(yfile):
            key = ("values", hr.name, hr.namespace)
            self.memo.get(target, key, _file_values, hr, target, yfile)

    def built_from(self, files: Mapping[str, YamlFile]) -> bool:
        """Whether every file modelled here is in ``files`` as it was parsed."""
        return all(files.get(rel) is yfile for rel, yfile in self.files.items())

    def walk_for(
        self,
        ks_docs: Sequence[DocumentRef],
        kustomize_files: Mapping[str, KustomizeFile],
        exists: _Exists,
    ) -> _Walk | None:
        """The walk done here, when it read these very Flux Kustomizations and
        kustomization files (the paths it looked up beyond the folders read join
        ``exists``'s)."""
        if self.walk is None:
            return None
        seen_ks, seen_kfiles, found, asked = self.walk
        if len(seen_ks) != len(ks_docs) or any(
            a is not b for a, b in zip(seen_ks, ks_docs, strict=True)
        ):
            return None
        if seen_kfiles.keys() != kustomize_files.keys() or any(
            kfile is not kustomize_files[directory] for directory, kfile in seen_kfiles.items()
        ):
            return None
        exists.outside |= asked.outside
        return found


_FIRST_NAMES = frozenset((*KUSTOMIZATION_FILENAMES, "ks.yaml", "ks.yml"))


def _parsed_first(rel: str) -> bool:
    """Whether ``rel`` is named like a kustomization file or a file of Flux
    Kustomizations (``ks.yaml``, anything in a ``flux`` folder), which the walk of
    what each Flux Kustomization deploys needs before any object is modelled."""
    return _basename(rel) in _FIRST_NAMES or rel.startswith("flux/") or "/flux/" in rel


def parse_order(paths: Sequence[str]) -> list[str]:
    """``paths`` as they are handed to the parse: those :class:`EarlyModels` needs first
    (:func:`_parsed_first`) at the back, where this process claims chunks (so it waits
    for no worker to walk, and they are never pickled), each group in its order."""
    first: list[str] = []
    rest: list[str] = []
    for rel in paths:
        (first if _parsed_first(rel) else rest).append(rel)
    return rest + first


def build_repo(
    root: Path,
    tree: _Tree,
    files: Mapping[str, YamlFile],
    options: LoadOptions,
    kinds: Iterable[type] = (),
    memo: ModelMemo | None = None,
    early: EarlyModels | None = None,
) -> Repo:
    """Turn parsed files into models (no file reading beyond existence checks).

    ``memo``: models built from the same parses by an earlier load, reused where
    what they depend on is unchanged (see :class:`ModelMemo`).  ``early``: models
    built from these very parses while they arrived (without ``memo``).
    """
    if early is not None and not early.built_from(files):
        early = None  # the alias budget emptied a file after its models were built
    if early is not None:
        early.finish()
    exists = _Exists(root, tree)
    if memo is None and early is not None:
        memo = ModelMemo(early.memo.new, keep=False, trusted=True)
        exists.outside |= early.exists.outside  # what its kustomization files asked
    elif memo is None:
        memo = ModelMemo(keep=False)

    all_docs: dict[str, tuple[DocumentRef, ...]] = {}
    for rel, yfile in files.items():
        refs = memo.get(rel, "refs", _refs, rel, yfile)
        if refs:
            all_docs[rel] = refs

    kustomize_files: dict[str, KustomizeFile] = {}
    for rel, docs in all_docs.items():
        if _basename(rel) in KUSTOMIZATION_FILENAMES:
            kfile = _kustomize_doc(memo, docs, exists)
            if kfile is not None:
                kustomize_files[kfile.directory] = kfile

    not_objects = _not_objects(kustomize_files)
    by_path = {rel: docs for rel, docs in all_docs.items() if rel not in not_objects}
    documents = [d for docs in by_path.values() for d in docs]
    patch_documents = tuple(
        d
        for kfile in kustomize_files.values()
        for e in kfile.patch_files
        if e.target
        for d in all_docs.get(e.target, ())
    )

    ks_docs = _flux_kustomizations(by_path)
    walk = early.walk_for(ks_docs, kustomize_files, exists) if early is not None else None
    if walk is None:
        walk = _walk_deployments(ks_docs, kustomize_files, tree, exists)
    namespaces_of, deployed_by, landed_in = walk

    kustomizations: list[FluxKustomization] = []
    helm_releases: list[HelmRelease] = []
    oci: list[OCIRepository] = []
    helm_repos: list[HelmRepository] = []
    git: list[GitRepository] = []
    infisical: list[InfisicalSecret] = []
    external: list[ExternalSecret] = []
    secrets: list[Secret] = []
    workloads: list[Workload] = []
    consumers: list[SecretConsumer] = []
    extra_kinds = {(getattr(k, "API_GROUP", ""), getattr(k, "KIND", "")): k for k in kinds}
    extra: dict[type, list[Any]] = {k: [] for k in extra_kinds.values()}
    buckets: dict[str, list[Any]] = {
        "ks": kustomizations,
        "hr": helm_releases,
        "oci": oci,
        "helm-repo": helm_repos,
        "git": git,
        "infisical": infisical,
        "external": external,
        "secret": secrets,
        "workload": workloads,
    }
    for doc in documents:
        ns = namespaces_of.get(doc.path)
        modelled = memo.get(doc.path, ("doc", doc.index, ns), _model, doc, ns)
        if modelled is not None:
            bucket, model, found = modelled
            buckets[bucket].append(model)
            consumers.extend(found)
        if extra_kinds:
            cls = extra_kinds.get((doc.group, doc.kind))
            if cls is not None:
                extra[cls].append(getattr(cls, "from_doc")(doc))  # noqa: B009

    values: list[ValuesSource] = []
    for vs, found_workloads, found_consumers in _values_sources(
        helm_releases, kustomize_files, files, memo
    ):
        values.append(vs)
        workloads.extend(found_workloads)
        consumers.extend(found_consumers)

    sops_files = tuple(
        found
        for rel, yfile in files.items()
        if (found := memo.get(rel, "sops", _sops_file, rel, yfile)) is not None
    )

    apps, namespaces = _apps_and_namespaces(
        options.apps_root, kustomizations, kustomize_files, deployed_by
    )
    talos = _talos(files, by_path, options.talos_dir)
    implicit = _implicit_sources(documents)
    settings = options.settings
    if settings.kubernetes_version is None and talos is not None and talos.kubernetes_version:
        settings = attrs.evolve(settings, kubernetes_version=talos.kubernetes_version)
    return Repo(
        root=root,
        files=dict(files),
        skipped=tree.skipped,
        documents=tuple(documents),
        patch_documents=patch_documents,
        kustomize_files=tuple(kustomize_files.values()),
        kustomizations=tuple(kustomizations),
        helm_releases=tuple(helm_releases),
        oci_repositories=tuple(oci),
        helm_repositories=tuple(helm_repos),
        git_repositories=tuple(git),
        infisical_secrets=tuple(infisical),
        external_secrets=tuple(external),
        secrets=tuple(secrets),
        sops_files=sops_files,
        secret_consumers=tuple(consumers),
        workloads=tuple(workloads),
        values=tuple(values),
        apps=tuple(apps),
        namespaces=tuple(namespaces),
        talos=talos,
        file_namespaces=namespaces_of,
        deployed_namespaces={k: tuple(v) for k, v in landed_in.items()},
        deployed_by={k: tuple(v) for k, v in deployed_by.items()},
        extra_objects={k: tuple(v) for k, v in extra.items()},
        apps_root=options.apps_root,
        implicit_sources=implicit,
        settings=settings,
        outside_paths=frozenset(exists.outside),
    )


def _flux_kustomizations(by_path: Mapping[str, Sequence[DocumentRef]]) -> list[DocumentRef]:
    """The Flux Kustomizations among the objects of ``by_path``, in file order."""
    return [
        d
        for docs in by_path.values()
        for d in docs
        if d.data.get("kind") == "Kustomization" and d.group == KUSTOMIZE_GROUP
    ]


# What :func:`_walk_deployments` finds: the namespace each file lands in, the Flux
# Kustomizations deploying each file, every namespace each file lands in.
_Walk = tuple[dict[str, str], dict[str, list[KsKey]], dict[str, list[str]]]


def _walk_deployments(
    ks_docs: Sequence[DocumentRef],
    kustomize_files: Mapping[str, KustomizeFile],
    tree: _Tree,
    exists: _Exists,
) -> _Walk:
    """Follow the Flux Kustomizations ``ks_docs`` through kustomize to the files they
    deploy.

    Returns the namespace each file's objects land in, which Flux
    Kustomizations deploy each file, and every namespace each file lands in
    (a component several namespaces include lands in each).  Outer namespaces win, as kustomize's
    namespace transformer and Flux's targetNamespace do.
    """
    file_ns: dict[str, str] = {}
    all_ns: dict[str, list[str]] = {}
    deployed_by: dict[str, list[tuple[str | None, str]]] = {}
    ks_in: dict[str, list[DocumentRef]] = {}
    for d in ks_docs:
        ks_in.setdefault(d.path, []).append(d)
    # Roots: Flux Kustomizations no other Flux Kustomization (in another file) deploys:
    # the cluster entry points, applied by bootstrap or a FluxInstance.
    deployed_from: dict[str, set[str]] = {}
    for d in ks_docs:
        start = _ks_start(d)
        if start is None:
            continue
        for rel, _ in _closure(start, None, kustomize_files, tree, exists):
            deployed_from.setdefault(rel, set()).add(d.path)
    roots = [d for d in ks_docs if not deployed_from.get(d.path, set()) - {d.path}] or ks_docs
    queue: deque[tuple[DocumentRef, str | None]] = deque((d, d.namespace) for d in roots)
    done: set[tuple[str, int]] = set()
    while queue:
        doc, own_ns = queue.popleft()
        if (doc.path, doc.index) in done:
            continue
        done.add((doc.path, doc.index))
        start = _ks_start(doc)
        if start is None:
            continue
        target_ns = doc.get("spec", "targetNamespace")
        target_ns = target_ns if isinstance(target_ns, str) else None
        key = (doc.namespace or own_ns, doc.name)
        reached = _closure(start, target_ns, kustomize_files, tree, exists)
        # spec.components are added to the kustomization at spec.path.
        start_kfile = kustomize_files.get(start)
        component_ns = target_ns or (start_kfile.namespace if start_kfile else None)
        for component in _ks_components(doc, start):
            reached += _closure(component, component_ns, kustomize_files, tree, exists)
        for rel, ns in reached:
            deployed_by.setdefault(rel, [])
            if key not in deployed_by[rel]:
                deployed_by[rel].append(key)
            if ns is not None:
                file_ns.setdefault(rel, ns)
                landed = all_ns.setdefault(rel, [])
                if ns not in landed:
                    landed.append(ns)
            for child in ks_in.get(rel, ()):
                queue.append((child, child.namespace or ns))
    return file_ns, deployed_by, all_ns


def _ks_start(doc: DocumentRef) -> str | None:
    """The repository folder a Flux Kustomization's ``spec.path`` names, if inside it."""
    spec_path = doc.get("spec", "path")
    if not isinstance(spec_path, str) or not reads_this_repository(doc.get("spec")):
        return None
    start = posixpath.normpath(spec_path.lstrip("/")) if spec_path else "."
    start = "" if start == "." else start
    if start == ".." or start.startswith("../"):
        return None
    return start


def _closure(
    start: str,
    namespace: str | None,
    kustomize_files: Mapping[str, KustomizeFile],
    tree: _Tree,
    exists: Callable[[str], str | None],
) -> list[tuple[str, str | None]]:
    """Files reached from directory ``start`` with the namespace they end up in."""
    out: list[tuple[str, str | None]] = []
    seen: set[tuple[str, str | None]] = set()
    stack: list[tuple[str, str | None, str]] = [(start, namespace, "dir")]
    while stack:
        rel, ns, kind = stack.pop()
        if (rel, ns) in seen:
            continue
        seen.add((rel, ns))
        if kind == "file":
            out.append((rel, ns))
            continue
        kfile = kustomize_files.get(rel)
        if kfile is None:
            # Flux generates a kustomization of every manifest below a bare folder,
            # taking a sub-folder with its own kustomization.yaml as one resource.
            prefix = f"{rel}/" if rel else ""
            for f in sorted(tree.yaml_files):
                if not f.startswith(prefix):
                    continue
                sub = _kustomized_folder(rel, posixpath.dirname(f), kustomize_files)
                if sub is None:
                    out.append((f, ns))
                else:
                    stack.append((sub, ns, "dir"))
            continue
        inner_ns = ns or kfile.namespace
        out.append((kfile.path, inner_ns))
        for entry in kfile.all_entries():
            if entry.target is None or entry.status not in ("file", "dir"):
                continue
            stack.append((entry.target, inner_ns, entry.status))
    return out


def _ks_components(doc: DocumentRef, start: str) -> list[str]:
    """The folders a Flux Kustomization's ``spec.components`` name (relative to its path)."""
    out = []
    for item in doc.list_at("spec", "components"):
        if isinstance(item, str):
            target = posixpath.normpath(posixpath.join(start, item))
            if not (target == ".." or target.startswith("../")):
                out.append("" if target == "." else target)
    return out


def _kustomized_folder(
    top: str, directory: str, kustomize_files: Mapping[str, KustomizeFile]
) -> str | None:
    """The outermost folder below ``top`` (down to ``directory``) with a kustomization."""
    found = None
    while directory != top and directory.startswith(f"{top}/" if top else ""):
        if directory in kustomize_files:
            found = directory
        directory = posixpath.dirname(directory)
    return found


def _values_sources(
    releases: Sequence[HelmRelease],
    kustomize_files: Mapping[str, KustomizeFile],
    files: Mapping[str, YamlFile],
    memo: ModelMemo,
) -> list[_Described]:
    """Values of each HelmRelease: inline, and files behind valuesFrom ConfigMaps;
    each with the workloads and the secret consumers they describe."""
    out: list[_Described] = []
    for hr in releases:
        if hr.values:
            out.append(
                memo.get(
                    hr.doc.path,
                    ("inline-values", hr.doc.index, hr.name, hr.namespace),
                    _inline_values,
                    hr,
                )
            )
        for levels in _values_files(hr, kustomize_files):
            for targets in levels:
                found = False
                for target in targets:
                    yfile = files.get(target)
                    if yfile is not None and _is_values(yfile):
                        out.append(
                            memo.get(
                                target,
                                ("values", hr.name, hr.namespace),
                                _file_values,
                                hr,
                                target,
                                yfile,
                            )
                        )
                        found = True
                if found:
                    break
    return out


def _values_files(
    hr: HelmRelease, kustomize_files: Mapping[str, KustomizeFile]
) -> Iterator[Iterator[list[str]]]:
    """Per ``valuesFrom`` ConfigMap of ``hr``: per folder from the release's up to the
    root that has a kustomization, the files its generators of that ConfigMap put under
    the values key.  The nearest folder with a values file wins."""
    for vf in hr.values_from:
        if vf.kind == "ConfigMap":
            yield _values_levels(hr, vf.name, vf.values_key, kustomize_files)


def _values_levels(
    hr: HelmRelease, name: str, values_key: str, kustomize_files: Mapping[str, KustomizeFile]
) -> Iterator[list[str]]:
    directory = hr.doc.path
    while directory:  # each folder above the release's file, up to the root ("")
        directory = _dirname(directory)
        kfile = kustomize_files.get(directory)
        if kfile is not None:
            yield [
                entry.target
                for gen in kfile.generators
                if gen.kind == "ConfigMap" and gen.name == name
                for key, entry in zip(gen.file_keys, gen.files, strict=False)
                if key == values_key and entry.target is not None
            ]


def _is_values(yfile: YamlFile) -> bool:
    """Whether ``yfile`` can be a release's values: a mapping (a list, a scalar or a
    document skipped as unreadable gives the release none)."""
    return bool(yfile.documents) and isinstance(yfile.documents[0].data, dict)


_Described = tuple[ValuesSource, tuple[Workload, ...], tuple[SecretConsumer, ...]]


def _inline_values(hr: HelmRelease) -> _Described:
    return _described(ValuesSource(hr.name, hr.namespace, "inline", hr.doc, ("spec", "values")))


def _file_values(hr: HelmRelease, rel: str, yfile: YamlFile) -> _Described:
    ref = DocumentRef.from_document(rel, yfile.documents[0])
    return _described(ValuesSource(hr.name, hr.namespace, "configmap", ref))


def _described(vs: ValuesSource) -> _Described:
    """``vs`` with the workloads and the Secret consumers its values describe."""
    return vs, tuple(vs.workloads()), tuple(vs.secret_consumers())


def _refs(rel: str, yfile: YamlFile) -> tuple[DocumentRef, ...]:
    """The documents of ``yfile`` that are mappings (the ones that can be objects)."""
    return tuple(
        DocumentRef.from_document(rel, document)
        for document in yfile.documents
        if isinstance(document.data, dict)
    )


class _Exists:
    """Whether a repository path is a file or a folder (``"file"``, ``"dir"``, None),
    answered from the discovered tree; ``outside`` collects the paths beyond the
    folders read that had to be looked up on disk."""

    def __init__(self, root: Path, tree: _Tree) -> None:
        self.root = root
        self.root_real = os.path.realpath(root)
        self.tree = tree
        self.outside: set[str] = set()

    def __call__(self, rel: str) -> str | None:
        if rel in self.tree.files:
            return "file"
        if rel in self.tree.dirs:
            return "dir"
        full = os.path.realpath(os.path.join(self.root, rel))
        if not (full == self.root_real or full.startswith(self.root_real + os.sep)):
            return None
        self.outside.add(rel)
        if os.path.isdir(full):
            return "dir"
        if os.path.isfile(full):
            return "file"
        return None


def _kustomize_doc(
    memo: ModelMemo, docs: Sequence[DocumentRef], exists: Callable[[str], str | None]
) -> KustomizeFile | None:
    """The kustomization of a file named like one, when its first document is one."""
    if docs and docs[0].group in ("", "kustomize.config.k8s.io"):
        return _kustomize_file(memo, docs[0], exists)
    return None


def _not_objects(kustomize_files: Mapping[str, KustomizeFile]) -> set[str]:
    """Files that describe objects without being objects: kustomization files,
    patches, kustomize configurations and generators' files (values, say)."""
    out: set[str] = {k.path for k in kustomize_files.values()}
    for kfile in kustomize_files.values():
        out.update(e.target for e in kfile.patch_files if e.target)
        out.update(e.target for e in kfile.configurations if e.target)
        for gen in kfile.generators:
            out.update(e.target for e in gen.files if e.target)
    return out


def _kustomize_file(
    memo: ModelMemo, doc: DocumentRef, exists: Callable[[str], str | None]
) -> KustomizeFile:
    """The kustomization file of ``doc``, kept while every path it asked about is as it was."""
    kept = memo.old.get(doc.path, {}).get("kustomize")
    if kept is not None and (
        memo.trusted or all(exists(path) == answer for path, answer in kept[1])
    ):
        if memo.keep:
            memo.new.setdefault(doc.path, {})["kustomize"] = kept
        return kept[0]  # type: ignore[no-any-return]
    if not memo.keep:
        return KustomizeFile.from_doc(doc, exists)
    asked: dict[str, str | None] = {}

    def recorded(path: str) -> str | None:
        answer = asked[path] = exists(path)
        return answer

    kfile = KustomizeFile.from_doc(doc, recorded)
    memo.new.setdefault(doc.path, {})["kustomize"] = (kfile, tuple(asked.items()))
    memo.rebuilt.add(doc.path)
    return kfile


def _model(doc: DocumentRef, ns: str | None) -> tuple[str, Any, tuple[SecretConsumer, ...]] | None:
    """The model of an object of a built-in kind: (its list in the Repo, it, the
    Secrets it reads), or None for other kinds."""
    group, kind = doc.group, doc.kind
    if group == KUSTOMIZE_GROUP and kind == "Kustomization":
        ks = FluxKustomization.from_doc(doc, ns)
        reads = _secrets_read(
            ks.substitute_from, ks.namespace, "substituteFrom", f"Kustomization {ks.name}"
        )
        return "ks", ks, reads
    if group == HELM_GROUP and kind == "HelmRelease":
        hr = HelmRelease.from_doc(doc, ns)
        reads = _secrets_read(hr.values_from, hr.namespace, "valuesFrom", f"HelmRelease {hr.name}")
        return "hr", hr, reads
    if group == SOURCE_GROUP and kind == "OCIRepository":
        return "oci", OCIRepository.from_doc(doc, ns), ()
    if group == SOURCE_GROUP and kind == "HelmRepository":
        return "helm-repo", HelmRepository.from_doc(doc, ns), ()
    if group == SOURCE_GROUP and kind == "GitRepository":
        return "git", GitRepository.from_doc(doc, ns), ()
    if group == INFISICAL_GROUP and kind == "InfisicalSecret":
        return "infisical", InfisicalSecret.from_doc(doc, ns), ()
    if group == EXTERNAL_SECRETS_GROUP and kind == "ExternalSecret":
        return "external", ExternalSecret.from_doc(doc, ns), ()
    if group == "" and kind == "Secret":
        return "secret", Secret.from_doc(doc, ns), ()
    if kind in WORKLOAD_KINDS and group in ("", "apps", "batch"):
        wl = Workload.from_doc(doc, ns)
        return "workload", wl, tuple(pod_secret_consumers(doc, wl.namespace, f"{kind} {wl.name}"))
    return None


def _secrets_read(
    refs: Iterable[Any], namespace: str | None, how: str, consumer: str
) -> tuple[SecretConsumer, ...]:
    """The Secrets of ``refs`` (``substituteFrom`` or ``valuesFrom`` items) as consumers."""
    return tuple(
        SecretConsumer(ref.name, namespace, how, consumer, ref.optional, ref.source)
        for ref in refs
        if ref.kind == "Secret" and ref.name
    )


def _sops_file(rel: str, yfile: YamlFile) -> SopsFile | None:
    """``rel`` as a SOPS file, when it is named or encrypted like one."""
    encrypted = False
    for document in yfile.documents:
        data = document.data  # a plain dict without "sops" (nearly all) is not one
        if (not isinstance(data, dict) or "sops" in data) and is_sops_document(data):
            encrypted = True
            break
    named = ".sops." in _basename(rel)
    if not (named or encrypted):
        return None
    return SopsFile(path=rel, encrypted=encrypted, named_sops=named, source=Location(rel, 1, 1))


def _basename(rel: str) -> str:
    """``posixpath.basename(rel)``, without its call into ``os.fspath``."""
    return rel[rel.rfind("/") + 1 :]


def _dirname(rel: str) -> str:
    """``posixpath.dirname(rel)`` of a relative path, without its calls."""
    return rel[: rel.rfind("/") + 1].rstrip("/")


def _apps_and_namespaces(
    apps_root: str,
    kustomizations: Sequence[FluxKustomization],
    kustomize_files: Mapping[str, KustomizeFile],
    deployed_by: Mapping[str, list[tuple[str | None, str]]],
) -> tuple[list[App], list[Namespace]]:
    by_file: dict[str, list[FluxKustomization]] = {}
    for ks in kustomizations:
        by_file.setdefault(ks.doc.path, []).append(ks)
    files_of: dict[tuple[str | None, str], list[str]] = {}
    for rel, keys in deployed_by.items():
        for key in keys:
            files_of.setdefault(key, []).append(rel)
    apps: list[App] = []
    for ks_path, kss in sorted(by_file.items()):
        if _basename(ks_path) not in ("ks.yaml", "ks.yml"):
            continue
        directory = _dirname(ks_path)
        if directory.startswith("kubernetes/flux") and not directory.startswith(apps_root + "/"):
            continue
        parent = _dirname(directory)
        namespace = _basename(parent) if parent else (kss[0].namespace or "")
        if parent != apps_root and parent.startswith(apps_root + "/"):
            namespace = _basename(parent)
        owned = {ks_path}
        for ks in kss:
            owned.update(files_of.get(ks.key, ()))
        apps.append(
            App(
                name=_basename(directory),
                namespace=namespace,
                directory=directory,
                ks_path=ks_path,
                kustomizations=tuple(kss),
                files=tuple(sorted(owned)),
                source=kss[0].source,
            )
        )
    namespaces: list[Namespace] = []
    apps_in: dict[str, list[str]] = {}  # namespace folder -> its apps' names, in order
    for a in apps:
        apps_in.setdefault(_dirname(a.directory), []).append(a.name)
    for ns_dir in sorted(apps_in):
        kfile = kustomize_files.get(ns_dir)

        namespaces.append(
            Namespace(
                name=_basename(ns_dir),
                directory=ns_dir,
                kustomization=kfile,
                apps=tuple(apps_in[ns_dir]),
                source=kfile.source if kfile else Location(ns_dir, 0, 0),
            )
        )
    return apps, namespaces


def _talos(
    files: Mapping[str, YamlFile], by_path: Mapping[str, Sequence[DocumentRef]], talos_dir: str
) -> TalosConfig | None:
    config_path = next(
        (p for p in (f"{talos_dir}/talconfig.yaml", f"{talos_dir}/talconfig.yml") if p in files),
        None,
    )
    if config_path is None or not by_path.get(config_path):
        return None
    env_path = next(
        (p for p in (f"{talos_dir}/talenv.yaml", f"{talos_dir}/talenv.yml") if p in files), None
    )
    env: Mapping[str, Any] = {}
    if env_path and by_path.get(env_path):
        env = by_path[env_path][0].data
    return TalosConfig.from_doc(by_path[config_path][0], env, env_path)


def _implicit_sources(documents: Sequence[DocumentRef]) -> frozenset[tuple[str, str | None, str]]:
    """Flux sources created at bootstrap rather than declared as manifests.

    ``GitRepository flux-system`` is made by ``flux bootstrap`` or by the
    flux-operator's FluxInstance (``spec.sync``), often from Helm values.
    """
    implicit = {("GitRepository", "flux-system", "flux-system")}
    for doc in documents:
        if doc.data.get("kind") == "FluxInstance":
            kind = doc.get("spec", "sync", "kind")
            if isinstance(kind, str):
                implicit.add((kind, doc.namespace or "flux-system", doc.name or "flux-system"))
    return frozenset(implicit)
